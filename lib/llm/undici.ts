import type * as UndiciModule from 'undici';
import type { Agent } from 'undici';
import type { ResolvedChatClientOptions } from './chat-client-options';

type Undici = typeof UndiciModule;
let undici: Undici | undefined;

/**
 * undici, loaded by the first client that sends a request (`ChatClient`, `EmbeddingsClient`): importing
 * `cachet/llm` for its chat keys loads no HTTP client. (undici installs its global dispatcher when it
 * loads, if none is set; Node's `fetch` then uses it.)
 */
export function loadUndici(): Undici {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (undici ??= require('undici') as Undici);
}

/** The connection pool of one provider client: `connections` sockets at most, kept alive as asked. */
export function providerPool(options: ResolvedChatClientOptions): Agent {
  const { connections, keepAliveTimeoutMs, requestTimeoutMs } = options;
  return new (loadUndici().Agent)({
    connections,
    keepAliveTimeout: keepAliveTimeoutMs,
    // The server may advertise a longer keep-alive; never hold idle sockets longer than asked.
    keepAliveMaxTimeout: keepAliveTimeoutMs,
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
  });
}
