import { estimateChatTokens } from '../../lib/llm/chat-tokens';
import type { ChatRequest } from '../../lib/llm/chat-request';

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('estimateChatTokens', () => {
  it('counts a quarter token per character, 4 per message, and the completion the request allows', () => {
    // 40 characters: 10 tokens, 4 for the message, 100 for the completion.
    expect(estimateChatTokens(ask('x'.repeat(40), { max_tokens: 100 }))).toBe(114);
    expect(estimateChatTokens(ask('x'.repeat(40), { max_completion_tokens: 50, max_tokens: 100 }))).toBe(64);
    expect(estimateChatTokens(ask('x'.repeat(41), { max_tokens: 0 }))).toBe(15);
  });

  it('assumes completionTokens (256 by default) when the request sets no maximum, and multiplies by n', () => {
    expect(estimateChatTokens(ask('abcd'))).toBe(1 + 4 + 256);
    expect(estimateChatTokens(ask('abcd'), { completionTokens: 10 })).toBe(15);
    expect(estimateChatTokens(ask('abcd', { max_tokens: 10, n: 3 }))).toBe(35);
  });

  it('reads text parts, tool calls and tool definitions, and no image data', () => {
    const request: ChatRequest = {
      model: 'm',
      max_tokens: 0,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'x'.repeat(8) },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(4_000)}` } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: '1', type: 'function', function: { name: 'find', arguments: '{"q":"a"}' } }],
        },
      ],
      tools: [{ type: 'function', function: { name: 'find' } }],
    };
    const toolChars = JSON.stringify(request.tools).length;
    expect(estimateChatTokens(request)).toBe(Math.ceil((8 + 4 + 9 + toolChars) / 4) + 8);
  });

  it('rejects what it cannot read with a TypeError saying what was expected', () => {
    expect(() => estimateChatTokens({ model: 'm' } as never)).toThrow(
      'Expected `request` to be a chat request with a `messages` array',
    );
    expect(() => estimateChatTokens(ask('a'), { completionTokens: -1 })).toThrow(
      'Expected `completionTokens` to be a whole number >= 0, got `-1`',
    );
    expect(() => estimateChatTokens(ask('a'), { completion: 1 } as never)).toThrow(TypeError);
  });
});
