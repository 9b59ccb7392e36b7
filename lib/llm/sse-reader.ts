/**
 * Splits a server-sent events byte stream into the `data` payloads of its events, as OpenAI-compatible
 * providers send them: `data: {...}\n\n`, ending with `data: [DONE]`. Comments (`: keep-alive`) and other
 * fields (`event:`, `id:`) are skipped; multi-line `data` fields are joined with `\n` as the SSE spec says.
 * Ends after `[DONE]` (without yielding it) or when the bytes end.
 * @example
 * for await (const data of sseData(response.body)) console.log(JSON.parse(data));
 */
export async function* sseData(bytes: AsyncIterable<Uint8Array | string>): AsyncGenerator<string, boolean> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const part of bytes) {
    // stream: true keeps a multi-byte character split across two chunks intact.
    buffer += typeof part === 'string' ? part : decoder.decode(part, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) {
          const payload = data.join('\n');
          data = [];
          if (payload === '[DONE]') return true;
          yield payload;
        }
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
  }
  /** `false`: the bytes ended without `[DONE]`, which callers treat as a broken stream. */
  return false;
}
