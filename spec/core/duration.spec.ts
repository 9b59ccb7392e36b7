import { parseDuration } from '../../lib';

describe('parseDuration', () => {
  it.each([
    [600_000, 600_000],
    [0, 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
  ])('reads %p as %p ms', (input, ms) => {
    expect(parseDuration('ttl', input)).toBe(ms);
  });

  it.each([[-1], [NaN], [Infinity], [''], ['10'], ['10 m'], ['ten minutes'], ['5w'], [null], [{}]])(
    'rejects %p with a TypeError naming the option',
    (input) => {
      expect(() => parseDuration('ttl', input)).toThrow(TypeError);
      expect(() => parseDuration('ttl', input)).toThrow(/^Expected `ttl` to be a duration/);
    },
  );
});
