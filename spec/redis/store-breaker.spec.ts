import { isStoreUnavailableError, StoreUnavailableError } from '../../lib/core/errors';
import { StoreBreaker, type StoreCircuitState } from '../../lib/redis/store-breaker';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';

const THRESHOLD = 3;
const COOLDOWN = 1_000;

describe('StoreBreaker', () => {
  let clock: ManualClock;
  let changes: StoreCircuitState[];
  let breaker: StoreBreaker;

  beforeEach(() => {
    clock = manualClock();
    changes = [];
    breaker = new StoreBreaker(THRESHOLD, COOLDOWN, clock, (state) => changes.push(state));
  });

  /** The error `enter()` throws, or undefined when it lets the operation through. */
  function refusal(operation = 'get', key?: string): StoreUnavailableError | undefined {
    try {
      breaker.enter(operation, key);
      return undefined;
    } catch (error) {
      if (isStoreUnavailableError(error)) return error;
      throw error;
    }
  }

  function open(): void {
    for (let i = 0; i < THRESHOLD; i++) breaker.failure();
  }

  it('starts closed and lets operations through', () => {
    expect(breaker.state).toBe('closed');
    expect(refusal()).toBeUndefined();
    expect(changes).toEqual([]);
  });

  it('stays closed below the threshold of consecutive failures', () => {
    for (let i = 0; i < THRESHOLD - 1; i++) breaker.failure();
    expect(breaker.state).toBe('closed');
    expect(refusal()).toBeUndefined();
    expect(changes).toEqual([]);
  });

  it('opens after `threshold` consecutive failures and reports it once', () => {
    open();
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('resets the failure count on a success', () => {
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
  });

  it('opens on the first failure with a threshold of 1', () => {
    const single = new StoreBreaker(1, COOLDOWN, clock, (state) => changes.push(state));
    single.failure();
    expect(single.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('while open, refuses with StoreUnavailableError carrying the operation, key and time left', () => {
    open();
    clock.advance(400);
    const error = refusal('set', 'user:1');
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({
      code: 'ERR_CACHET_STORE_UNAVAILABLE',
      operation: 'set',
      key: 'user:1',
      retryAfterMs: COOLDOWN - 400,
    });
    expect(error?.message).toContain(`${COOLDOWN - 400} ms`);
  });

  it('refuses until the last millisecond of the cooldown', () => {
    open();
    clock.advance(COOLDOWN - 1);
    expect(refusal()?.retryAfterMs).toBe(1);
    expect(breaker.state).toBe('open');
  });

  it('stays open without reporting again when late failures arrive while open', () => {
    open();
    clock.advance(COOLDOWN / 2);
    breaker.failure();
    expect(changes).toEqual(['open']);
    expect(breaker.state).toBe('open');
  });

  it('after the cooldown lets exactly one probe through and half-opens', () => {
    open();
    clock.advance(COOLDOWN);
    expect(refusal()).toBeUndefined();
    expect(breaker.state).toBe('half-open');
    expect(changes).toEqual(['open', 'half-open']);
    const second = refusal();
    expect(second).toBeInstanceOf(StoreUnavailableError);
    expect(second?.retryAfterMs).toBe(COOLDOWN);
  });

  it('reopens for a full cooldown when the probe fails', () => {
    open();
    clock.advance(COOLDOWN);
    breaker.enter('get');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open', 'half-open', 'open']);
    expect(refusal()?.retryAfterMs).toBe(COOLDOWN);
    clock.advance(COOLDOWN);
    expect(refusal()).toBeUndefined();
    expect(breaker.state).toBe('half-open');
  });

  it('closes when the probe succeeds, and then needs `threshold` new failures to open again', () => {
    open();
    clock.advance(COOLDOWN);
    breaker.enter('get');
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
    expect(refusal()).toBeUndefined();
    expect(refusal()).toBeUndefined();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
  });

  it('lets another probe through one cooldown later when a probe never reports', () => {
    open();
    clock.advance(COOLDOWN);
    breaker.enter('get'); // this probe never calls success() or failure()
    clock.advance(COOLDOWN - 1);
    expect(refusal()).toBeInstanceOf(StoreUnavailableError);
    clock.advance(1);
    expect(refusal()).toBeUndefined();
    expect(breaker.state).toBe('half-open');
  });

  it('does not report a change for a success while closed', () => {
    breaker.failure();
    breaker.success();
    breaker.success();
    expect(changes).toEqual([]);
  });
});
