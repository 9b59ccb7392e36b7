import { logEvent, type CachetLogger } from './logger';

/**
 * A minimal typed event emitter. Emitting to an event nobody listens to costs one property read, so
 * hot paths can call `has()` first and skip building the payload.
 */
export class Emitter<Events extends { [E in keyof Events]: (payload: never) => void }> {
  #listeners: { [E in keyof Events]?: Events[E][] } = {};

  /** `logger`: where a listener's exception is logged (its owner's logger; else the global one). */
  constructor(private readonly logger?: CachetLogger) {}

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    (this.#listeners[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    const list = this.#listeners[event];
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) delete this.#listeners[event];
  }

  /** True when at least one listener is registered for `event`. */
  has(event: keyof Events): boolean {
    return this.#listeners[event] !== undefined;
  }

  /**
   * Calls every listener. A listener that throws must not break the call that emitted (a cache hit), so
   * its error is logged instead (a process warning when no logger is set).
   */
  emit<E extends keyof Events>(event: E, payload: Parameters<Events[E]>[0]): void {
    const list = this.#listeners[event];
    if (!list) return;
    for (const listener of list.slice()) {
      try {
        (listener as (p: typeof payload) => void)(payload);
      } catch (error) {
        logEvent(
          this.logger,
          'error',
          { event: 'cachet.listener-threw', listener: String(event), err: error },
          `A cachet '${String(event)}' listener threw: ${String(error)}`,
          { type: 'CachetListenerWarning' },
        );
      }
    }
  }
}
