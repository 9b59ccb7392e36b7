/** `inFlight` and `queued` of one key. */
export interface Usage {
  inFlight: number;
  queued: number;
}

/**
 * Counts holders and waiters per key for semaphores whose slots live elsewhere (in Redis). Keys at
 * zero are dropped, so a semaphore keyed per user does not grow without bound.
 * @example counter.adjust('gpt', 'inFlight', 1); counter.total('inFlight') // 1
 */
export class UsageCounter {
  readonly #usage = new Map<string, Usage>();

  of(key: string): Readonly<Usage> {
    return this.#usage.get(key) ?? { inFlight: 0, queued: 0 };
  }

  adjust(key: string, field: keyof Usage, by: number): void {
    let usage = this.#usage.get(key);
    if (usage === undefined) this.#usage.set(key, (usage = { inFlight: 0, queued: 0 }));
    usage[field] += by;
    if (usage.inFlight === 0 && usage.queued === 0) this.#usage.delete(key);
  }

  total(field: keyof Usage): number {
    let total = 0;
    for (const usage of this.#usage.values()) total += usage[field];
    return total;
  }
}
