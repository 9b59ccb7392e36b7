import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitIntoChunks, usageFor, type ChatRequestBody } from './chat-answer';
import type { LocalStreamError, LocalStreamFraming } from './local-provider-options';
import { frameEvent, splitWrites, type SseEvent } from './sse-framing';

/** Waits `ms` on an `unref`ed timer, so a pending answer never keeps the process alive by itself. */
export const sleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Reads a whole request body as UTF-8. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** How {@link writeChatStream} paces, frames and possibly cuts short a stream. */
export interface ChatStreamPlan {
  readonly request: ChatRequestBody;
  readonly answer: string;
  /** Fields every chunk carries: `id`, `created`, `model`. */
  readonly base: object;
  readonly chunkDelayMs: number;
  /** Content chunks to send before destroying the socket; `Infinity` to finish normally. */
  readonly breakStreamAfter: number;
  /** Content chunks to send before ending cleanly without a `finish_reason`; `Infinity` to finish normally. */
  readonly truncateStreamAfter: number;
  /** An error event to send mid-stream, or `undefined`. */
  readonly streamError: Required<LocalStreamError> | undefined;
  readonly framing: Required<LocalStreamFraming>;
}

/**
 * Writes an answer as OpenAI server-sent events: a role chunk, one chunk per word (see
 * {@link splitIntoChunks}), a `finish_reason: 'stop'` chunk, a usage chunk when
 * `stream_options.include_usage` is set, then `data: [DONE]`. The plan may cut it short (whichever comes
 * first): by destroying the socket, with an error event in place of the rest (then `[DONE]`), or by
 * leaving out the rest and the `finish_reason` chunk (then `[DONE]`).
 * @example await writeChatStream(res, { request, answer, base, chunkDelayMs: 0, breakStreamAfter: Infinity, ... });
 */
export async function writeChatStream(res: ServerResponse, plan: ChatStreamPlan): Promise<void> {
  const { request, answer, base, chunkDelayMs, breakStreamAfter, truncateStreamAfter, streamError, framing } = plan;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (sse: SseEvent): Promise<void> => writeEvent(res, frameEvent(sse, framing), framing.split);
  const chunk = (choices: object[], extra: object = {}): Promise<void> =>
    send({ data: JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra }) });
  const choice = (delta: object, finish: string | null = null): object => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const stopAt = Math.min(breakStreamAfter, truncateStreamAfter, streamError?.after ?? Infinity);
  await chunk([choice({ role: 'assistant', content: '' })]);
  let sent = 0;
  for (const piece of splitIntoChunks(answer)) {
    if (sent >= stopAt) break;
    await sleep(chunkDelayMs);
    if (res.destroyed) return;
    await chunk([choice({ content: piece })]);
    sent++;
  }
  if (sent >= breakStreamAfter) {
    res.socket?.destroy();
    return;
  }
  if (streamError !== undefined && sent >= streamError.after) {
    // Then `[DONE]`, as vLLM and SGLang send it: a client that takes the error for a chunk
    // sees a stream that ended properly.
    await send(errorEvent(streamError));
  } else if (sent < truncateStreamAfter) {
    await chunk([choice({}, 'stop')]);
    if (request.stream_options?.include_usage === true) await chunk([], { usage: usageFor(request, answer) });
  }
  await send({ data: '[DONE]' });
  res.end();
}

function errorEvent(e: Required<LocalStreamError>): SseEvent {
  const error = { type: e.type, message: e.message, code: e.code };
  return e.shape === 'event'
    ? { event: 'error', data: JSON.stringify({ type: 'error', error }) }
    : { data: JSON.stringify({ error: { ...error, param: null } }) };
}

/**
 * Writes one event's bytes, in pieces when the framing says so. Each write is awaited: destroying the
 * socket with bytes still buffered would drop them, and the client would see a failed request instead
 * of a stream that breaks mid-way. Before each piece of a split stream the event loop turns twice (two
 * `setImmediate`s put a poll phase between two writes), so a client in this process reads each piece
 * on its own instead of finding them coalesced in the socket.
 */
async function writeEvent(
  res: ServerResponse,
  text: string,
  split: Required<LocalStreamFraming>['split'],
): Promise<void> {
  for (const piece of splitWrites(text, split)) {
    if (split !== 'event') await nextPoll();
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(piece, () => resolve()));
  }
}

const nextPoll = async (): Promise<void> => {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
};
