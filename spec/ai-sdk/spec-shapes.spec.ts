import { isUnfinished, usageTokens } from '../../lib/ai-sdk/spec-shapes';

describe('AI SDK specification shapes', () => {
  it.each([
    ['v2 (flat)', { inputTokens: 12, outputTokens: 5, totalTokens: 17 }],
    [
      'v3 / v4 (nested)',
      {
        inputTokens: { total: 12, noCache: 12, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: 5, text: 5, reasoning: undefined },
      },
    ],
  ])('reads the token counts of a %s usage', (_shape, usage) => {
    expect(usageTokens(usage)).toEqual({ promptTokens: 12, completionTokens: 5 });
  });

  it('counts absent or unknown token counts as 0', () => {
    expect(usageTokens({ inputTokens: undefined, outputTokens: { total: undefined } })).toEqual({
      promptTokens: 0,
      completionTokens: 0,
    });
    expect(usageTokens(undefined)).toEqual({ promptTokens: 0, completionTokens: 0 });
  });

  it.each([
    ['stop', false],
    ['length', false],
    ['other', false],
    ['error', true],
    ['unknown', true],
    [{ unified: 'stop', raw: 'stop' }, false],
    [{ unified: 'tool-calls', raw: undefined }, false],
    [{ unified: 'other', raw: 'model_context_window_exceeded' }, false],
    [{ unified: 'other', raw: undefined }, true],
    [{ unified: 'error', raw: 'error' }, true],
    [{ unified: 'interrupted', raw: undefined }, true],
    [undefined, true],
    [{ raw: 'stop' }, true],
  ])('finish reason %j: unfinished %s', (reason, unfinished) => {
    expect(isUnfinished(reason)).toBe(unfinished);
  });
});
