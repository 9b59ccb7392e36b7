/** The English (and currency-sign) vocabulary of the numbers guard: units, number words, date words. */

/** Unit words -> the canonical unit both languages map to (`days` and `天` -> `day`). */
export const EN_UNITS: Readonly<Record<string, string>> = {
  second: 's',
  seconds: 's',
  sec: 's',
  secs: 's',
  minute: 'min',
  minutes: 'min',
  min: 'min',
  mins: 'min',
  hour: 'h',
  hours: 'h',
  hr: 'h',
  hrs: 'h',
  day: 'day',
  days: 'day',
  week: 'week',
  weeks: 'week',
  month: 'month',
  months: 'month',
  year: 'year',
  years: 'year',
  yr: 'year',
  yrs: 'year',
  percent: '%',
  pct: '%',
  dollar: 'usd',
  dollars: 'usd',
  usd: 'usd',
  bucks: 'usd',
  euro: 'eur',
  euros: 'eur',
  eur: 'eur',
  yuan: 'cny',
  rmb: 'cny',
  cny: 'cny',
  pound: 'lb',
  pounds: 'lb',
  lb: 'lb',
  lbs: 'lb',
  gbp: 'gbp',
  kg: 'kg',
  kilo: 'kg',
  kilos: 'kg',
  kilogram: 'kg',
  kilograms: 'kg',
  g: 'g',
  gram: 'g',
  grams: 'g',
  km: 'km',
  kilometer: 'km',
  kilometers: 'km',
  kilometre: 'km',
  kilometres: 'km',
  mile: 'mile',
  miles: 'mile',
  m: 'm',
  meter: 'm',
  meters: 'm',
  metre: 'm',
  metres: 'm',
  cm: 'cm',
  mm: 'mm',
  kb: 'kb',
  mb: 'mb',
  gb: 'gb',
  tb: 'tb',
  times: 'x',
  x: 'x',
};

/** Currency signs before a number -> the currency. */
export const CURRENCY_SIGNS: Readonly<Record<string, string>> = {
  $: 'usd',
  '€': 'eur',
  '£': 'gbp',
  '¥': 'cny',
  '￥': 'cny',
};

/** Number words below a hundred (and `dozen`, `half`). */
export const EN_SMALL: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  dozen: 12,
  half: 0.5,
};
/** Scale words that multiply what precedes them. */
export const EN_SCALE: Readonly<Record<string, number>> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 };

/** Month, weekday and relative-day names, read as dates (`date:monday`). */
export const EN_DATES = new Set([
  ...['january', 'february', 'march', 'april', 'june', 'july', 'august', 'september', 'october', 'november'],
  ...['december', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  ...['today', 'tomorrow', 'yesterday', 'tonight'],
]);

/** Reads a run of number words: `two hundred five` -> 205, `three million` -> 3000000. */
export function parseEnglishNumberWords(words: readonly string[]): number {
  let total = 0;
  let current = 0;
  for (const word of words) {
    if (word in EN_SMALL) current += EN_SMALL[word]!;
    else if (word === 'hundred') current = (current || 1) * 100;
    else {
      total += (current || 1) * EN_SCALE[word]!;
      current = 0;
    }
  }
  return total + current;
}
