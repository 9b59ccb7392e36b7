import { parseDuration, type Duration } from '../core/duration';
import {
  assertKnownOptions,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
  withDefaults,
} from '../core/validate';

/**
 * Options of a {@link ChatClient}: one client (and one connection pool) per provider.
 * @example
 * const options: ChatClientOptions = { baseURL: 'https://api.openai.com/v1', connections: 8, requestTimeout: '2m' };
 */
export interface ChatClientOptions {
  /** The provider's base URL including the version path, e.g. `https://api.openai.com/v1`. Required. */
  readonly baseURL?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. @default process.env.OPENAI_API_KEY (no header when neither is set) */
  readonly apiKey?: string;
  /** Most sockets open to the provider at once; further requests queue in the pool. Positive integer. @default 16 */
  readonly connections?: number;
  /** How long an idle kept-alive socket stays open for reuse. @default '30s' */
  readonly keepAliveTimeout?: Duration;
  /**
   * Longest wait for the response headers, and then for each piece of the body (so a stream may run
   * longer in total, as long as it keeps sending). @default '10m'
   */
  readonly requestTimeout?: Duration;
  /** Extra headers on every request (e.g. `OpenAI-Organization`). @default {} */
  readonly headers?: Readonly<Record<string, string>>;
}

const DEFAULTS = {
  connections: 16,
  keepAliveTimeout: '30s',
  requestTimeout: '10m',
  headers: {},
} as const satisfies ChatClientOptions;

const KNOWN = ['baseURL', 'apiKey', 'connections', 'keepAliveTimeout', 'requestTimeout', 'headers'] as const;

/** {@link ChatClientOptions} validated and resolved once, at construction. */
export interface ResolvedChatClientOptions {
  /** Origin only, e.g. `https://api.openai.com`; the pool is per origin. */
  readonly origin: string;
  /** Path to POST to, e.g. `/v1/chat/completions`. */
  readonly completionsPath: string;
  readonly connections: number;
  readonly keepAliveTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Every header sent on each request, `authorization` included when there is a key. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Validates options (a `TypeError` in the standard format for bad ones) and resolves defaults, once.
 * @example resolveChatClientOptions({ baseURL: 'http://127.0.0.1:8080/v1' }).completionsPath // '/v1/chat/completions'
 */
export function resolveChatClientOptions(options: ChatClientOptions): ResolvedChatClientOptions {
  assertPlainObject('options', options);
  assertKnownOptions('ChatClient', options, KNOWN);
  const o = withDefaults(DEFAULTS, options);
  let url: URL;
  try {
    url = new URL(String(o.baseURL));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw optionError('baseURL', 'an http(s) URL', o.baseURL);
  }
  assertPositiveInteger('connections', o.connections);
  assertPlainObject('headers', o.headers);
  const apiKey = o.apiKey ?? process.env.OPENAI_API_KEY;
  if (apiKey !== undefined && typeof apiKey !== 'string') throw optionError('apiKey', 'a string', apiKey);
  const headers: Record<string, string> = { ...o.headers, 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return {
    origin: url.origin,
    completionsPath: `${url.pathname.replace(/\/+$/, '')}/chat/completions`,
    connections: o.connections,
    keepAliveTimeoutMs: parseDuration('keepAliveTimeout', o.keepAliveTimeout),
    requestTimeoutMs: parseDuration('requestTimeout', o.requestTimeout),
    headers,
  };
}
