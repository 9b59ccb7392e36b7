import { StoreTimeoutError } from '../core/errors';

/** Rejects with {@link StoreTimeoutError} if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, operation: string, key?: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(operation, key, ms)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
