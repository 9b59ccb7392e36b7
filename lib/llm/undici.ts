import type * as UndiciModule from 'undici';

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
