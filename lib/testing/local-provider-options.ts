import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import {
  assertFunction,
  assertKnownOptions,
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
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; others get a 401. @default undefined */
  readonly apiKey?: string;
  /**
   * Builds the answer text from the request. The default is deterministic:
   * `Local answer from <model> to: <last user message>`.
   */
  readonly reply?: (request: ChatRequestBody) => string;
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
  readonly apiKey: string | undefined;
  readonly reply: ((request: ChatRequestBody) => string) | undefined;
}

const SETTING_NAMES = ['latency', 'errorRate', 'rateLimit', 'chunkDelay', 'breakStreamAfter', 'apiKey', 'reply'] as const;
const OPTION_NAMES = [...SETTING_NAMES, 'port', 'random', 'clock'] as const;

const DEFAULTS = {
  latencyMs: [0, 0],
  errorRate: 0,
  rateLimit: Infinity,
  chunkDelayMs: 0,
  breakStreamAfter: Infinity,
  apiKey: undefined,
  reply: undefined,
} as const satisfies ResolvedSettings;

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
  const ok = value === Infinity || (typeof value === 'number' && Number.isSafeInteger(value) && value >= (positive ? 1 : 0));
  if (!ok) throw optionError(name, `${positive ? 'a positive' : 'a non-negative'} integer or Infinity`, value);
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
