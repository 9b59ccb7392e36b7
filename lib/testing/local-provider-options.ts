import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import {
  assertFunction,
  assertKnownOptions,
  assertOneOf,
  assertPlainObject,
  optionError,
  withDefaults,
} from '../core/validate';
import type { ChatRequestBody } from './chat-answer';

/**
 * Behaviour of a {@link LocalProvider} that can change while it runs (`provider.configure({...})`).
 * Every property is optional; omitted ones keep their current value.
 */
export interface LocalProviderSettings {
  /**
   * Time each answer waits before its first byte: a {@link Duration}, or `[min, max]` for a uniform random
   * delay drawn with `random`. Real timers are used, so keep it at 0 under Jest's fake timers.
   * @default 0
   */
  readonly latency?: Duration | readonly [Duration, Duration];
  /** Share of valid requests, 0..1, answered with a 500 and an OpenAI-style error body. @default 0 */
  readonly errorRate?: number;
  /**
   * Requests per second (fixed one-second windows of `clock`) above which the provider answers 429 with
   * `Retry-After` (whole seconds) and `retry-after-ms` headers. `Infinity` means no limit.
   * @default Infinity
   */
  readonly rateLimit?: number;
  /** Pause between two streamed chunks, a {@link Duration}. @default 0 */
  readonly chunkDelay?: Duration;
  /**
   * Number of content chunks after which a stream is cut by destroying the socket, so that the client's
   * read fails mid-way. `Infinity` means streams always complete.
   * @default Infinity
   */
  readonly breakStreamAfter?: number;
  /**
   * Number of content chunks after which a stream ends *cleanly*, as a faulty proxy may end it: no
   * `finish_reason` chunk, no usage chunk, then `data: [DONE]`. The client sees a well-formed stream
   * whose answer is cut short. `Infinity` means streams always complete.
   * @default Infinity
   */
  readonly truncateStreamAfter?: number;
  /**
   * Sends an error event mid-stream, as providers do when a model is overloaded after the answer has
   * started: the status stays 200, the error takes the place of the rest of the answer after `after`
   * content chunks, and `data: [DONE]` follows it (as vLLM and SGLang send it). `false` streams
   * normally. See {@link LocalStreamError}.
   * @default false
   */
  readonly streamError?: false | LocalStreamError;
  /**
   * How stream events are laid out and cut into writes, to test a client's SSE parsing over a real
   * socket. See {@link LocalStreamFraming}; omitted fields keep their defaults.
   * @default { lineEnding: '\n', multiLineData: false, comments: false, split: 'event' }
   */
  readonly framing?: LocalStreamFraming;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; others get a 401. @default undefined */
  readonly apiKey?: string;
  /**
   * Builds the answer text from the request. The default is deterministic:
   * `Local answer from <model> to: <last user message>`.
   */
  readonly reply?: (request: ChatRequestBody) => string;
}

/** An error a {@link LocalProvider} stream sends mid-way; see {@link LocalProviderSettings.streamError}. */
export interface LocalStreamError {
  /** Content chunks sent before the error. Non-negative integer. */
  readonly after: number;
  /**
   * `'event'`: an `event: error` line and `data: {"type":"error","error":{...}}` (Anthropic's shape);
   * `'data'`: a bare `data: {"error":{...}}` (OpenAI's).
   * @default 'event'
   */
  readonly shape?: 'event' | 'data';
  /** The error's `type`, e.g. `rate_limit_error`, `api_error`, `invalid_request_error`. @default 'overloaded_error' */
  readonly type?: string;
  /** The error's `message`. @default 'Overloaded' */
  readonly message?: string;
  /** The error's `code`. @default null */
  readonly code?: string | null;
}

/** How a {@link LocalProvider} frames stream events; see {@link LocalProviderSettings.framing}. */
export interface LocalStreamFraming {
  /** The end of every line. @default '\n' */
  readonly lineEnding?: '\n' | '\r\n' | '\r';
  /**
   * Pretty-prints each event's JSON over several `data:` lines, which a client must join with `\n`
   * (valid SSE, and still valid JSON). @default false
   */
  readonly multiLineData?: boolean;
  /** A comment line (`: keep-alive`) before every event, as some providers send. @default false */
  readonly comments?: boolean;
  /**
   * Where the bytes of the stream are cut into separate writes. Each write waits for the previous one
   * to reach the socket and for the event loop to turn twice, so that a client in the same process
   * reads the pieces one by one. `'event'`: one write per event. `'line-ending'`: inside every line
   * ending (between `\r` and `\n`, or just before a lone `\n` or `\r`). `'utf8'`: inside every
   * multi-byte UTF-8 character. A positive integer: every that many bytes.
   * @default 'event'
   */
  readonly split?: 'event' | 'line-ending' | 'utf8' | number;
}

/** Options of a {@link LocalProvider}: the runtime {@link LocalProviderSettings} plus fixed wiring. */
export interface LocalProviderOptions extends LocalProviderSettings {
  /** TCP port on 127.0.0.1; 0 picks a free one. Integer 0..65535. @default 0 */
  readonly port?: number;
  /** Source of numbers in [0, 1) for `errorRate` and random latency; inject a seeded one in tests. @default Math.random */
  readonly random?: () => number;
  /** Time source for `rateLimit` windows and `created` timestamps. @default systemClock */
  readonly clock?: Clock;
}

/** Settings after validation, durations in milliseconds. */
export interface ResolvedSettings {
  readonly latencyMs: readonly [number, number];
  readonly errorRate: number;
  readonly rateLimit: number;
  readonly chunkDelayMs: number;
  readonly breakStreamAfter: number;
  readonly truncateStreamAfter: number;
  readonly streamError: Required<LocalStreamError> | undefined;
  readonly framing: Required<LocalStreamFraming>;
  readonly apiKey: string | undefined;
  readonly reply: ((request: ChatRequestBody) => string) | undefined;
}

const SETTING_NAMES = [
  'latency',
  'errorRate',
  'rateLimit',
  'chunkDelay',
  'breakStreamAfter',
  'truncateStreamAfter',
  'streamError',
  'framing',
  'apiKey',
  'reply',
] as const;
const OPTION_NAMES = [...SETTING_NAMES, 'port', 'random', 'clock'] as const;

const DEFAULTS = {
  latencyMs: [0, 0],
  errorRate: 0,
  rateLimit: Infinity,
  chunkDelayMs: 0,
  breakStreamAfter: Infinity,
  truncateStreamAfter: Infinity,
  streamError: undefined,
  framing: { lineEnding: '\n', multiLineData: false, comments: false, split: 'event' },
  apiKey: undefined,
  reply: undefined,
} as const satisfies ResolvedSettings;

const STREAM_ERROR_DEFAULTS = { shape: 'event', type: 'overloaded_error', message: 'Overloaded', code: null } as const;

function parseLatency(value: unknown): readonly [number, number] {
  if (!Array.isArray(value)) {
    const ms = parseDuration('latency', value);
    return [ms, ms];
  }
  if (value.length !== 2) throw optionError('latency', 'a duration or a [min, max] pair of durations', value);
  const min = parseDuration('latency[0]', value[0]);
  const max = parseDuration('latency[1]', value[1]);
  if (max < min) throw optionError('latency', 'a [min, max] pair with min <= max', value);
  return [min, max];
}

function assertCountOrInfinity(name: string, value: unknown, positive: boolean): asserts value is number {
  const ok =
    value === Infinity || (typeof value === 'number' && Number.isSafeInteger(value) && value >= (positive ? 1 : 0));
  if (!ok) throw optionError(name, `${positive ? 'a positive' : 'a non-negative'} integer or Infinity`, value);
}

function resolveStreamError(value: unknown): ResolvedSettings['streamError'] {
  if (value === false) return undefined;
  assertPlainObject('streamError', value);
  assertKnownOptions('streamError', value as object, ['after', 'shape', 'type', 'message', 'code']);
  const e = { ...STREAM_ERROR_DEFAULTS, ...withDefaults({}, value as LocalStreamError) };
  assertCountOrInfinity('streamError.after', e.after, false);
  if (e.after === Infinity) throw optionError('streamError.after', 'a non-negative integer', e.after);
  assertOneOf('streamError.shape', e.shape, ['event', 'data']);
  if (typeof e.type !== 'string' || e.type.length === 0)
    throw optionError('streamError.type', 'a non-empty string', e.type);
  if (typeof e.message !== 'string') throw optionError('streamError.message', 'a string', e.message);
  if (e.code !== null && typeof e.code !== 'string') throw optionError('streamError.code', 'a string or null', e.code);
  return e;
}

function resolveFraming(value: unknown): ResolvedSettings['framing'] {
  assertPlainObject('framing', value);
  assertKnownOptions('framing', value as object, ['lineEnding', 'multiLineData', 'comments', 'split']);
  const f = { ...DEFAULTS.framing, ...withDefaults({}, value as LocalStreamFraming) };
  if (f.lineEnding !== '\n' && f.lineEnding !== '\r\n' && f.lineEnding !== '\r') {
    throw optionError('framing.lineEnding', "'\\n', '\\r\\n' or '\\r'", f.lineEnding);
  }
  if (typeof f.multiLineData !== 'boolean') throw optionError('framing.multiLineData', 'a boolean', f.multiLineData);
  if (typeof f.comments !== 'boolean') throw optionError('framing.comments', 'a boolean', f.comments);
  const split = f.split;
  const splitOk =
    split === 'event' ||
    split === 'line-ending' ||
    split === 'utf8' ||
    (typeof split === 'number' && Number.isSafeInteger(split) && split > 0);
  if (!splitOk) throw optionError('framing.split', "'event', 'line-ending', 'utf8' or a positive integer", split);
  return f;
}

/** Validates `settings` and merges them over `base` (the current settings, or the defaults). */
export function resolveSettings(settings: LocalProviderSettings, base: ResolvedSettings = DEFAULTS): ResolvedSettings {
  assertPlainObject('settings', settings);
  assertKnownOptions('LocalProvider setting', settings, SETTING_NAMES);
  const s = withDefaults({}, settings) as LocalProviderSettings;
  const errorRate = s.errorRate ?? base.errorRate;
  if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) {
    throw optionError('errorRate', 'a number between 0 and 1', errorRate);
  }
  const rateLimit = s.rateLimit ?? base.rateLimit;
  assertCountOrInfinity('rateLimit', rateLimit, true);
  const breakStreamAfter = s.breakStreamAfter ?? base.breakStreamAfter;
  assertCountOrInfinity('breakStreamAfter', breakStreamAfter, false);
  const truncateStreamAfter = s.truncateStreamAfter ?? base.truncateStreamAfter;
  assertCountOrInfinity('truncateStreamAfter', truncateStreamAfter, false);
  if (s.apiKey !== undefined && (typeof s.apiKey !== 'string' || s.apiKey.length === 0)) {
    throw optionError('apiKey', 'a non-empty string', s.apiKey);
  }
  if (s.reply !== undefined) assertFunction('reply', s.reply);
  return {
    latencyMs: s.latency === undefined ? base.latencyMs : parseLatency(s.latency),
    errorRate,
    rateLimit,
    chunkDelayMs: s.chunkDelay === undefined ? base.chunkDelayMs : parseDuration('chunkDelay', s.chunkDelay),
    breakStreamAfter,
    truncateStreamAfter,
    streamError: s.streamError === undefined ? base.streamError : resolveStreamError(s.streamError),
    framing: s.framing === undefined ? base.framing : resolveFraming(s.framing),
    apiKey: s.apiKey ?? base.apiKey,
    reply: s.reply ?? base.reply,
  };
}

/** Validates the constructor options once. */
export function resolveOptions(options: LocalProviderOptions): {
  settings: ResolvedSettings;
  port: number;
  random: () => number;
  clock: Clock;
} {
  assertPlainObject('options', options);
  assertKnownOptions('LocalProvider', options, OPTION_NAMES);
  const { port = 0, random = Math.random, clock = systemClock, ...settings } = withDefaults({}, options);
  if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw optionError('port', 'an integer between 0 and 65535', port);
  }
  assertFunction('random', random);
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
    throw optionError('clock', 'an object with a now() method', clock);
  }
  return { settings: resolveSettings(settings), port, random, clock };
}
