import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProviderError } from './provider-error';

/**
 * Most characters a stream may hold back while waiting for the end of a line or an event. A chat chunk
 * is a few hundred bytes and a large tool-call delta a few kilobytes; a server that sends megabytes
 * without a line break is not speaking SSE, and buffering it would only grow memory.
 */
const MAX_BUFFERED_CHARACTERS = 8 * 1024 * 1024;

/**
 * Splits a server-sent events byte stream into its events (name and `data`) with `eventsource-parser`,
 * which follows the SSE specification: `\n`, `\r\n` and `\r` line endings, including a `\r\n` whose
 * halves arrive in two network chunks; multi-line `data` joined with `\n`; comments and `id:`/`retry:`
 * fields skipped. Bytes are decoded as a stream, so a multi-byte character split between two chunks
 * stays intact. Ends after `data: [DONE]` (not yielded), returning `true`, or when the bytes end,
 * returning `false`, which callers treat as a broken stream.
 * @example
 * for await (const { event, data } of sseEvents(response.body)) console.log(event ?? 'message', data);
 */
export async function* sseEvents(
  bytes: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<EventSourceMessage, boolean> {
  let parsed: EventSourceMessage[] = [];
  let overflow: Error | undefined;
  const parser = createParser({
    onEvent: (event) => parsed.push(event),
    // Unknown fields and bad `retry:` values are ignored, as the specification says; only an overflow stops.
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = error;
    },
    maxBufferSize: MAX_BUFFERED_CHARACTERS,
  });
  for await (const text of decoded(bytes)) {
    parser.feed(text);
    if (overflow !== undefined) {
      throw new ProviderError(`Provider stream is not server-sent events: ${overflow.message}`, { cause: overflow });
    }
    if (parsed.length === 0) continue;
    const events = parsed;
    parsed = [];
    for (const event of events) {
      if (event.data === '[DONE]') return true;
      yield event;
    }
  }
  return false;
}

/** The bytes as text, decoded as a stream so that a character split between two chunks stays whole. */
async function* decoded(bytes: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let last = '';
  for await (const part of bytes) {
    const text = typeof part === 'string' ? part : decoder.decode(part, { stream: true });
    if (text.length === 0) continue;
    last = text;
    yield text;
  }
  // The parser holds back a final `\r` until it knows whether a `\n` follows; at the end of the bytes it
  // is a line ending (a stream with bare `\r` line endings ends that way), and a `\n` says so.
  if (last.endsWith('\r')) yield '\n';
}
