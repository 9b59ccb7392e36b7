import { fullJitterDelay, retryAfterOf } from '../../lib/resilience/backoff';

const clock = { now: () => Date.parse('2026-01-01T00:00:00Z') };

describe('fullJitterDelay', () => {
  it('draws uniformly below the doubling delay, so random 0.5 gives half of it', () => {
    expect([1, 2, 3, 4].map((retry) => fullJitterDelay(retry, 100, 10_000, () => 0.5))).toEqual([50, 100, 200, 400]);
  });

  it('caps the exponential delay at max before applying jitter', () => {
    expect(fullJitterDelay(10, 100, 1_000, () => 0.5)).toBe(500);
    expect(fullJitterDelay(5_000, 100, 1_000, () => 0.999)).toBe(999);
  });

  it('can be zero, which is what full jitter means', () => {
    expect(fullJitterDelay(3, 100, 10_000, () => 0)).toBe(0);
  });
});

describe('retryAfterOf', () => {
  it('reads retryAfterMs from any error that has it', () => {
    expect(retryAfterOf(Object.assign(new Error('limited'), { retryAfterMs: 1_234 }), clock)).toBe(1_234);
  });

  it('reads Retry-After in seconds from a plain headers object, whatever the case of the name', () => {
    expect(retryAfterOf({ status: 429, headers: { 'Retry-After': '3' } }, clock)).toBe(3_000);
    expect(retryAfterOf({ status: 503, headers: { 'retry-after': '1.5' } }, clock)).toBe(1_500);
  });

  it('turns a Retry-After HTTP date into the delay from the injected clock', () => {
    const headers = { 'retry-after': 'Thu, 01 Jan 2026 00:00:42 GMT' };
    expect(retryAfterOf({ status: 503, headers }, clock)).toBe(42_000);
  });

  it('reads a date already past as no wait at all', () => {
    expect(retryAfterOf({ status: 503, headers: { 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' } }, clock)).toBe(0);
  });

  it('reads a Headers instance and a Map', () => {
    expect(retryAfterOf({ status: 429, headers: new Headers({ 'Retry-After': '2' }) }, clock)).toBe(2_000);
    expect(retryAfterOf({ status: 429, headers: new Map([['Retry-After', '4']]) }, clock)).toBe(4_000);
  });

  it('prefers the millisecond header OpenAI sends', () => {
    expect(retryAfterOf({ status: 429, headers: { 'retry-after-ms': '250', 'retry-after': '1' } }, clock)).toBe(250);
  });

  it('finds the headers on error.response, as axios shapes them', () => {
    expect(retryAfterOf({ response: { status: 429, headers: { 'retry-after': '7' } } }, clock)).toBe(7_000);
  });

  it('returns undefined when the error names no wait or an unreadable one', () => {
    expect(retryAfterOf(new Error('plain'), clock)).toBeUndefined();
    expect(retryAfterOf({ status: 429, headers: { 'retry-after': 'soon' } }, clock)).toBeUndefined();
    expect(retryAfterOf('a string', clock)).toBeUndefined();
  });
});
