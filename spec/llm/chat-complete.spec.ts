import { chatKeyPolicy } from '../../lib/llm/chat-key';
import { isWholeChatResult } from '../../lib/llm/chat-complete';

const chunk = (index: number, content: string | undefined, finish: string | null = null) => ({
  id: 'c',
  object: 'chat.completion.chunk',
  choices: [{ index, delta: content === undefined ? {} : { content }, finish_reason: finish }],
});
const usageChunk = {
  id: 'c',
  object: 'chat.completion.chunk',
  choices: [],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
};

describe('isWholeChatResult', () => {
  it('is what chatKeyPolicy supplies as `complete`', () => {
    expect(chatKeyPolicy({ tenant: false }).complete).toBe(isWholeChatResult);
  });

  it('accepts a stream once a chunk with a finish_reason came, a usage chunk after it included', () => {
    expect(isWholeChatResult([chunk(0, ''), chunk(0, 'Hi'), chunk(0, undefined, 'stop'), usageChunk])).toBe(true);
    expect(isWholeChatResult([chunk(0, 'Hi'), chunk(0, '!', 'length')])).toBe(true);
  });

  it('refuses a stream that ended without one, an empty stream, and one with only a usage chunk', () => {
    expect(isWholeChatResult([chunk(0, ''), chunk(0, 'Hi')])).toBe(false);
    expect(isWholeChatResult([chunk(0, 'Hi'), usageChunk])).toBe(false);
    expect(isWholeChatResult([])).toBe(false);
    expect(isWholeChatResult([usageChunk])).toBe(false);
  });

  it('needs a finish_reason for every choice of a stream with several', () => {
    expect(isWholeChatResult([chunk(0, 'a'), chunk(1, 'b'), chunk(0, undefined, 'stop')])).toBe(false);
    expect(
      isWholeChatResult([chunk(0, 'a'), chunk(1, 'b'), chunk(1, undefined, 'stop'), chunk(0, undefined, 'stop')]),
    ).toBe(true);
  });

  it('judges a completion by its choices', () => {
    const completion = (finish: string | null) => ({
      id: 'c',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: finish }],
    });
    expect(isWholeChatResult(completion('stop'))).toBe(true);
    expect(isWholeChatResult(completion(null))).toBe(false);
  });

  it('counts results it cannot judge as whole: text, chunks mapped to strings, other shapes', () => {
    expect(isWholeChatResult('Hi there')).toBe(true);
    expect(isWholeChatResult(['Hi', ' there'])).toBe(true);
    expect(isWholeChatResult({ type: 'message_stop' })).toBe(true);
    expect(isWholeChatResult(null)).toBe(true);
  });
});
