/**
 * Replaces `object[name]` by `wrap(original)` on the instance itself (the class and other instances are
 * untouched), as OpenTelemetry instrumentations patch a client; returns a function that puts the original
 * back. Used where a call must run inside a span, or be timed, and the object has no event for it.
 */
export function patchMethod<T extends object, K extends keyof T & string>(
  object: T,
  name: K,
  wrap: (original: T[K]) => T[K],
): () => void {
  const own = Object.getOwnPropertyDescriptor(object, name);
  const patched = wrap(object[name]);
  Object.defineProperty(object, name, { value: patched, configurable: true, writable: true, enumerable: false });
  return () => {
    // Someone patched over us: leave their wrapper (it calls ours, which still works).
    if (object[name] !== patched) return;
    if (own === undefined) delete object[name];
    else Object.defineProperty(object, name, own);
  };
}
