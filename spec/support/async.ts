/** A promise with its resolve and reject exposed, to hold a method until the test lets it go. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Checks `check` every `intervalMs` until it holds or `boundMs` has passed; resolves whether it held.
 * For waits on real events (a server restart, a key expiring), never as a fixed sleep.
 */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  boundMs = 10_000,
  intervalMs = 25,
): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Like {@link pollUntil}, but fails the test when the condition never holds. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  boundMs = 10_000,
  intervalMs = 25,
): Promise<void> {
  if (!(await pollUntil(check, boundMs, intervalMs))) throw new Error(`condition not met within ${boundMs} ms`);
}
