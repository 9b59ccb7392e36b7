import type { Clock } from '../core/clock';
import type { LogFields, LogLevel } from '../core/logger';
import type { StoreCircuitState } from './store-breaker';

/**
 * What one Redis breaker tells the logger: once when an outage begins (`warn`, the breaker opened) and
 * once when it ends (`info`, closed again, with how long it was open). The probes in between, one per
 * cooldown, are not logged: a long outage is two lines, not one a second.
 */
export class BreakerLog {
  /** When the breaker last opened from closed; `undefined` while closed. */
  #openedAt: number | undefined;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly clock: Clock,
    private readonly log: (level: LogLevel, fields: LogFields, message: string) => void,
  ) {}

  changed(state: StoreCircuitState): void {
    if (state === 'open' && this.#openedAt === undefined) {
      this.#openedAt = this.clock.now();
      this.log(
        'warn',
        { event: 'cachet.breaker-opened', failures: this.threshold, cooldownMs: this.cooldownMs },
        `Redis failed ${this.threshold} times in a row: operations skip it, and one probe every ` +
          `${this.cooldownMs} ms checks whether it is back`,
      );
    } else if (state === 'closed' && this.#openedAt !== undefined) {
      const openMs = this.clock.now() - this.#openedAt;
      this.#openedAt = undefined;
      this.log(
        'info',
        { event: 'cachet.breaker-closed', openMs },
        `Redis answered a probe: operations reach it again after ${openMs} ms`,
      );
    }
  }
}
