// Guards the two-project set-up: each Jest project must really compile the dialect it claims.
declare const __DECORATOR_DIALECT__: 'legacy' | 'standard';

describe('decorator dialect of this run', () => {
  it('matches the Jest project', () => {
    let received = 0;
    const probe = (...args: unknown[]): void => {
      received = args.length;
    };
    class Probe {
      @(probe as (...args: any[]) => void)
      method(): void {}
    }
    void Probe;
    expect(received).toBe(__DECORATOR_DIALECT__ === 'legacy' ? 3 : 2);
  });
});
