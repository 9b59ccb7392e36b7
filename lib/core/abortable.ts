/**
 * Waits `ms`, or rejects with `signal.reason` as soon as the signal aborts (the timer is then cleared,
 * so an abandoned wait keeps nothing alive).
 * @example await sleep(50, controller.signal)
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, or rejects with `signal.reason` when the signal aborts first. The work goes
 * on regardless; `onAbandoned` receives its eventual value so the caller can undo it (give back a slot
 * that was granted after the caller left).
 * @example await raceAbort(tryAcquire(), signal, (granted) => granted && release())
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbandoned: (value: T) => void): Promise<T> {
  if (signal.aborted) {
    promise.then(onAbandoned, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.then(onAbandoned, () => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Settles like `promise`, or rejects with `makeError()` after `ms`. The timer is unref'd and cleared,
 * so it never keeps a process alive.
 * @example await withDeadline(client.sendCommand(['PING']), 1_000, () => new Error('slow'))
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, makeError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(makeError()), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
