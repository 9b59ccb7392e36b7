import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitIntoChunks, usageFor, type ChatRequestBody } from './chat-answer';

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

/** How {@link writeChatStream} paces and possibly breaks a stream. */
export interface ChatStreamPlan {
  readonly request: ChatRequestBody;
  readonly answer: string;
  /** Fields every chunk carries: `id`, `created`, `model`. */
  readonly base: object;
  readonly chunkDelayMs: number;
  /** Content chunks to send before destroying the socket; `Infinity` to finish normally. */
  readonly breakStreamAfter: number;
}

/**
 * Writes an answer as OpenAI server-sent events: a role chunk, one chunk per word (see
 * {@link splitIntoChunks}), a `finish_reason: 'stop'` chunk, a usage chunk when
 * `stream_options.include_usage` is set, then `data: [DONE]`.
 * @example await writeChatStream(res, { request, answer, base, chunkDelayMs: 0, breakStreamAfter: Infinity });
 */
export async function writeChatStream(res: ServerResponse, plan: ChatStreamPlan): Promise<void> {
  const { request, answer, base, chunkDelayMs, breakStreamAfter } = plan;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  // Each write is awaited: destroying the socket with chunks still buffered would drop them, and the
  // client would see a failed request instead of a stream that breaks mid-way.
  const event = (choices: object[], extra: object = {}): Promise<void> =>
    new Promise((resolve) => {
      if (res.destroyed) return resolve();
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`, () => resolve());
    });
  const choice = (delta: object, finish: string | null = null): object => ({ index: 0, delta, logprobs: null, finish_reason: finish });
  await event([choice({ role: 'assistant', content: '' })]);
  let sent = 0;
  for (const piece of splitIntoChunks(answer)) {
    if (sent >= breakStreamAfter) break;
    await sleep(chunkDelayMs);
    if (res.destroyed) return;
    await event([choice({ content: piece })]);
    sent++;
  }
  if (sent >= breakStreamAfter) {
    res.socket?.destroy();
    return;
  }
  await event([choice({}, 'stop')]);
  if (request.stream_options?.include_usage === true) await event([], { usage: usageFor(request, answer) });
  res.end('data: [DONE]\n\n');
}
