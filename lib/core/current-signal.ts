import { AsyncLocalStorage } from 'node:async_hooks';

// One store for the whole library: @Timeout writes it, @Retry and user code read it.
const signals = new AsyncLocalStorage<AbortSignal>();

/**
 * The `AbortSignal` of the call in progress: set by `withTimeout` / `@Timeout` (aborted with the
 * `TimeoutError` when the deadline passes) or by {@link runWithSignal}. Nested timeouts hand inner calls a
 * signal that aborts when either deadline passes. Reading it never changes a method's signature.
 *
 * Outside any such scope it returns `undefined` rather than a never-aborting signal, so it can be passed
 * straight to APIs where a missing signal means "no cancellation" (`fetch(url, { signal: currentSignal() })`).
 *
 * @example
 * class Client {
 *   @Timeout('10s')
 *   async complete(prompt: string): Promise<string> {
 *     const res = await fetch(URL, { method: 'POST', body: prompt, signal: currentSignal() });
 *     return res.text();
 *   }
 * }
 */
export function currentSignal(): AbortSignal | undefined {
  return signals.getStore();
}

/**
 * Runs `fn` with `signal` as its {@link currentSignal}, for example a request's signal, so that a client
 * disconnect cancels the decorated calls made on its behalf and stops their retries. It replaces any
 * signal already in scope (a `@Timeout` inside `fn` links to it as usual).
 *
 * @example
 * app.post('/ask', (req, res) => runWithSignal(requestSignal(req), () => client.complete(req.body)));
 */
export function runWithSignal<T>(signal: AbortSignal, fn: () => T): T {
  return signals.run(signal, fn);
}
