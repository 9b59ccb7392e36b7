import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';

/**
 * Guards against near misses: cheap, exact checks that run before (or beside) the embedding similarity
 * and refuse to treat two questions as the same when a detail that changes the answer differs, however
 * alike the rest looks. "Refund within 7 days?" and "Refund within 30 days?" embed almost identically; a
 * semantic cache must still not answer one with the other.
 *
 * Each guard is a named function of (query, candidate) that returns `undefined` when it lets the pair
 * through, or a {@link GuardRefusal} saying what differed. `checkGuards` runs the ones switched on.
 * The guards know English and Chinese.
 */

export type GuardName = 'numbers' | 'negation' | 'quotes' | 'entities';

/** Why a guard refused: its name and what it found on each side. */
export interface GuardRefusal {
  readonly same: false;
  readonly guard: GuardName;
  /** What the guard extracted from the query (numbers with units, negation cues, quoted strings, entities). */
  readonly query: readonly string[];
  /** What it extracted from the candidate. */
  readonly candidate: readonly string[];
}

/** `{ same: true }`, or the first guard that refused. */
export type GuardVerdict = { readonly same: true } | GuardRefusal;

/** A guard: `undefined` lets the pair through. */
export type Guard = (query: string, candidate: string) => GuardRefusal | undefined;

/** Which guards run. Each can be switched off; `entities` lists the names that must match (none by default). */
export interface GuardOptions {
  /** Numbers, amounts, percentages, dates and units must match. Default on. */
  readonly numbers?: boolean;
  /** The parity of negation cues (not, never, n't, 不, 没有, 无, ...) must match. Default on. */
  readonly negation?: boolean;
  /** A quoted string on either side must appear in the other. Default on. */
  readonly quotes?: boolean;
  /** Named entities or products (`['花呗', '借呗']`, `['Plus', 'Pro']`): the same set must be present on both sides. Default `[]`. */
  readonly entities?: readonly string[];
}

/** Every guard on, with no entity list. */
export const defaultGuards: Readonly<Required<GuardOptions>> = Object.freeze({
  numbers: true,
  negation: true,
  quotes: true,
  entities: Object.freeze([]) as readonly string[],
});

const GUARD_OPTIONS = ['numbers', 'negation', 'quotes', 'entities'] as const;

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' ').trim();
}

function sameSet(x: readonly string[], y: readonly string[]): boolean {
  const sx = new Set(x);
  const sy = new Set(y);
  return sx.size === sy.size && [...sx].every((item) => sy.has(item));
}

function refusal(guard: GuardName, query: readonly string[], candidate: readonly string[]): GuardRefusal {
  return { same: false, guard, query, candidate };
}

// ---------------------------------------------------------------------------------------------------
// numbers

const EN_UNITS: Readonly<Record<string, string>> = {
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

// Longest first, so that 个小时 is read before 小时 and 公斤 before 斤.
const ZH_UNITS: readonly [string, string][] = (
  [
    ['个小时', 'h'],
    ['小时', 'h'],
    ['钟头', 'h'],
    ['分钟', 'min'],
    ['秒钟', 's'],
    ['秒', 's'],
    ['个工作日', 'day'],
    ['工作日', 'day'],
    ['天', 'day'],
    ['日', 'day'],
    ['号', 'day'],
    ['个星期', 'week'],
    ['星期', 'week'],
    ['礼拜', 'week'],
    ['周', 'week'],
    ['个月', 'month'],
    ['月', 'month'],
    ['年', 'year'],
    ['岁', 'age'],
    ['块钱', 'cny'],
    ['块', 'cny'],
    ['元', 'cny'],
    ['人民币', 'cny'],
    ['美元', 'usd'],
    ['美金', 'usd'],
    ['欧元', 'eur'],
    ['英镑', 'gbp'],
    ['毛', 'jiao'],
    ['角', 'jiao'],
    ['公斤', 'kg'],
    ['千克', 'kg'],
    ['斤', 'jin'],
    ['克', 'g'],
    ['公里', 'km'],
    ['千米', 'km'],
    ['厘米', 'cm'],
    ['毫米', 'mm'],
    ['米', 'm'],
    ['期', 'instalment'],
    ['次', 'x'],
    ['倍', 'x'],
    ['成', 'tenth'],
    ['折', 'discount'],
    ['个', ''],
    ['笔', ''],
    ['张', ''],
    ['位', ''],
  ] as [string, string][]
).sort((x, y) => y[0].length - x[0].length);

const CURRENCY_SIGNS: Readonly<Record<string, string>> = { $: 'usd', '€': 'eur', '£': 'gbp', '¥': 'cny', '￥': 'cny' };

const EN_SMALL: Readonly<Record<string, number>> = {
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
const EN_SCALE: Readonly<Record<string, number>> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 };

const EN_DATES = new Set([
  ...['january', 'february', 'march', 'april', 'june', 'july', 'august', 'september', 'october', 'november'],
  ...['december', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  ...['today', 'tomorrow', 'yesterday', 'tonight'],
]);

const ZH_DATES = [
  '大后天',
  '大前天',
  '今天',
  '明天',
  '昨天',
  '后天',
  '前天',
  '今晚',
  '明晚',
  '昨晚',
  '今年',
  '明年',
  '去年',
  '前年',
];
const ZH_WEEKDAY = /(星期|礼拜|周)([一二三四五六日天1-7])/gu;

/** Words whose characters are numerals but that are not numbers. */
const ZH_NOT_NUMBERS = [
  ...['百度', '十分', '万一', '千万', '一下', '一样', '一直', '一般', '一起', '一定', '一些', '统一', '一切', '唯一'],
  ...['一点', '一旦', '一边', '一致', '同一', '一再', '一向', '一律', '一共', '一会', '一生', '万能', '三星'],
  ...['一半', '不一', '之一', '一时', '一路', '一句', '一种', '一份', '一个人', '一下子', '七夕', '一方面'],
  ...['二维码', '二手', '一手'],
];

const ZH_DIGIT: Readonly<Record<string, number>> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};
const ZH_SMALL_SCALE: Readonly<Record<string, number>> = { 十: 10, 百: 100, 千: 1000 };
const ZH_BIG_SCALE: Readonly<Record<string, number>> = { 万: 1e4, 亿: 1e8 };

/** Parses a run of Chinese numerals (and Arabic digits before a scale: 3万): 三十 → 30, 两千零五 → 2005, 1.5万 → 15000. */
export function parseChineseNumber(run: string): number | undefined {
  let total = 0;
  let section = 0;
  let digit: number | undefined;
  let seen = false;
  for (let i = 0; i < run.length; i++) {
    const c = run[i]!;
    const arabic = /^[0-9]+(?:\.[0-9]+)?/.exec(run.slice(i));
    if (arabic !== null) {
      digit = Number(arabic[0]);
      i += arabic[0].length - 1;
      seen = true;
    } else if (c in ZH_DIGIT) {
      // 二零二六 (a year read digit by digit)
      if (digit !== undefined && section === 0 && total === 0) digit = digit * 10 + ZH_DIGIT[c]!;
      else digit = ZH_DIGIT[c]!;
      seen = true;
    } else if (c in ZH_SMALL_SCALE) {
      section += (digit ?? 1) * ZH_SMALL_SCALE[c]!;
      digit = undefined;
      seen = true;
    } else if (c in ZH_BIG_SCALE) {
      total = (total + section + (digit ?? 0) || 1) * ZH_BIG_SCALE[c]!;
      section = 0;
      digit = undefined;
      seen = true;
    } else return undefined;
  }
  return seen ? total + section + (digit ?? 0) : undefined;
}

function canonicalNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

function parseEnglishNumberWords(words: readonly string[]): number {
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

const NUMBER_TOKEN =
  /([$€£¥￥])?\s?([0-9]+(?:[,，][0-9]{3})*(?:\.[0-9]+)?)(?:st|nd|rd|th)?\s?(%|‰|[a-z]+\b|[\u4e00-\u9fff]{1,3})?/gu;

/**
 * The numbers of a text as `value unit` strings (unit empty when none is known): `7 days` and `七天`
 * both give `7 day`, `$5` and `5 dollars` give `5 usd`, `30%` and `百分之三十` give `30 %`; dates as
 * month and weekday names and relative days (`today`, `明天`). Exported for the specs.
 */
export function extractNumbers(text: string): string[] {
  let rest = normalise(text);
  const found: string[] = [];
  // Dates named by words.
  rest = rest.replace(ZH_WEEKDAY, (_m, _w: string, d: string) => {
    found.push(`weekday:${d === '日' || d === '天' ? 7 : (parseChineseNumber(d) ?? d)}`);
    return ' ';
  });
  for (const word of ZH_DATES) {
    const parts = rest.split(word);
    for (let i = 1; i < parts.length; i++) found.push(`date:${word}`);
    rest = parts.join(' ');
  }
  // 百分之三十 → 30 %
  rest = rest.replace(/百分之([零〇一二两三四五六七八九十百千万0-9.]+)/gu, (m, run: string) => {
    const value = parseChineseNumber(run);
    if (value === undefined) return m;
    found.push(`${canonicalNumber(value)} %`);
    return ' ';
  });
  for (const word of ZH_NOT_NUMBERS) rest = rest.split(word).join(' ');
  // 1 million, 2.5 billion, 5k: digits times a scale word.
  rest = rest.replace(
    /([0-9]+(?:\.[0-9]+)?)\s?(hundred|thousand|million|billion|k)\b/gu,
    (_m, digits: string, scale: string) => String(Number(digits) * (scale === 'k' ? 1e3 : EN_SCALE[scale]!)),
  );
  // Arabic numbers, with a currency sign before or a unit after.
  rest = rest.replace(NUMBER_TOKEN, (m, sign: string | undefined, digits: string, after: string | undefined) => {
    // A digit run followed by Chinese numerals/scales (3万) is read with them below.
    if (after !== undefined && /^[万亿千百十]/u.test(after)) return m;
    const value = Number(digits.replace(/[,，]/g, ''));
    let unit = sign !== undefined ? CURRENCY_SIGNS[sign]! : '';
    // What follows the unit stays for the passes below (3天五小时: 五小时 is read next).
    let left = after ?? '';
    if (after !== undefined) {
      if (after === '%' || after === '‰') {
        unit ||= after === '%' ? '%' : '‰';
        left = '';
      } else if (after in EN_UNITS) {
        unit ||= EN_UNITS[after]!;
        left = '';
      } else {
        const zh = ZH_UNITS.find(([word]) => after.startsWith(word));
        if (zh !== undefined) {
          unit ||= zh[1];
          left = after.slice(zh[0].length);
        }
      }
    }
    found.push(`${canonicalNumber(value)} ${unit}`.trim());
    return ` ${left}`;
  });
  // Chinese numerals: a run, then a unit. A lone 一 counts only before a unit of time, money or measure.
  rest = rest.replace(/[零〇一二两三四五六七八九十百千万亿0-9.]+/gu, (run, offset: number, whole: string) => {
    const value = parseChineseNumber(run);
    if (value === undefined) return run;
    const after = whole.slice(offset + run.length);
    const unit = ZH_UNITS.find(([word]) => after.startsWith(word));
    // A lone 一, 两 or scale character (一下, 杨万里, 森罗万象) is a number only before a unit.
    if (/^[一两十百千万亿]$/u.test(run) && (unit === undefined || unit[1] === '')) return run;
    if (/^[百千万亿]+$/u.test(run)) return run;
    found.push(`${canonicalNumber(value)} ${unit?.[1] ?? ''}`.trim());
    return ' ';
  });
  // English number words: runs like "twenty five", "two hundred"; "one" and "half" only before a unit.
  const words = rest.split(/[^a-z]+/u).filter(Boolean);
  for (let i = 0; i < words.length;) {
    const word = words[i]!;
    if (EN_DATES.has(word)) {
      found.push(`date:${word}`);
      i++;
      continue;
    }
    if (!(word in EN_SMALL) && !(word in EN_SCALE)) {
      i++;
      continue;
    }
    let j = i;
    while (j < words.length && (words[j]! in EN_SMALL || words[j]! in EN_SCALE || words[j] === 'and')) j++;
    while (j > i && words[j - 1] === 'and') j--;
    const run = words.slice(i, j).filter((w) => w !== 'and');
    const unitWord = words[j];
    const unit = unitWord !== undefined && unitWord in EN_UNITS ? EN_UNITS[unitWord]! : '';
    const weak = run.length === 1 && (run[0] === 'one' || run[0] === 'half') && unit === '';
    if (!weak) found.push(`${canonicalNumber(parseEnglishNumberWords(run))} ${unit}`.trim());
    i = j;
  }
  return found.sort();
}

/** value -> the units it carries on one side (`7 day` -> 7: {day}). */
function quantities(items: readonly string[]): Map<string, Set<string>> {
  const byValue = new Map<string, Set<string>>();
  for (const item of items) {
    const space = item.indexOf(' ');
    const value = space < 0 ? item : item.slice(0, space);
    let units = byValue.get(value);
    if (units === undefined) byValue.set(value, (units = new Set()));
    if (space >= 0) units.add(item.slice(space + 1));
  }
  return byValue;
}

/**
 * Numbers, amounts, percentages and dates must match: the same set of values on both sides, and a value
 * with a unit on both sides must share one (7 days vs 7 weeks is refused). A value with a unit on one
 * side only is accepted (`1 million` vs `1 million dollars`).
 */
export const numbersGuard: Guard = (query, candidate) => {
  const q = extractNumbers(query);
  const c = extractNumbers(candidate);
  const qv = quantities(q);
  const cv = quantities(c);
  const same =
    sameSet([...qv.keys()], [...cv.keys()]) &&
    [...qv].every(([value, units]) => {
      const other = cv.get(value)!;
      return units.size === 0 || other.size === 0 || [...units].some((unit) => other.has(unit));
    });
  return same ? undefined : refusal('numbers', q, c);
};

// ---------------------------------------------------------------------------------------------------
// negation

const EN_NEGATIONS = new Set([
  ...['not', 'no', 'never', 'without', 'none', 'nobody', 'nothing', 'neither', 'nor', 'nowhere', 'cannot'],
  ...['dont', 'doesnt', 'didnt', 'cant', 'wont', 'isnt', 'arent', 'wasnt', 'werent', 'shouldnt', 'wouldnt'],
  ...['couldnt', 'havent', 'hasnt', 'hadnt', 'aint', 'mustnt', 'neednt'],
]);
/** English phrases with a negation word that do not negate. */
const EN_NOT_NEGATIONS = /\b(?:not only|whether or not|or not|no matter|no doubt|yes or no|no\.)/gu;

/** Chinese negation cues, longest first. */
const ZH_NEGATION = /没有|没|不|无|别|未|非|莫|勿|甭|否/gu;
/** Words holding a cue character that do not negate (不错 = good, 非常 = very, 未来 = future, 是否 = whether, ...). */
const ZH_NOT_NEGATIONS = [
  ...['不错', '不过', '不管', '不仅', '不但', '不断', '不少', '不然', '不久', '不论', '要不', '差不多', '对不起'],
  ...[
    '了不起',
    '不好意思',
    '不小心',
    '不知不觉',
    '非常',
    '未来',
    '无论',
    '无线',
    '是否',
    '能否',
    '可否',
    '与否',
    '别人',
    '区别',
    '特别',
  ],
  ...['分别', '别的', '类别', '级别', '识别', '性别', '告别', '辨别', '离别', '个别', '差别', '无聊', '并非', '莫名'],
  ...['否则', '除非', '非要', '无所谓', '不一定'],
];

/** The negation cues of a text, in order (English words and contractions, Chinese characters). Exported for the specs. */
export function negationCues(text: string): string[] {
  let rest = normalise(text).replace(EN_NOT_NEGATIONS, ' ');
  for (const word of ZH_NOT_NEGATIONS) rest = rest.split(word).join(' ');
  // A-not-A questions ask, they do not negate: 是不是, 能不能, 可不可以, 有没有, 好不好.
  rest = rest.replace(/(\p{Script=Han})(?:不|没)\1/gu, ' ');
  const cues: string[] = [];
  for (const match of rest.matchAll(/[a-z]+(?:'[a-z]+)?|\p{Script=Han}+/gu)) {
    const token = match[0];
    if (/^[a-z]/.test(token)) {
      if (token.endsWith("n't") || EN_NEGATIONS.has(token)) cues.push(token);
    } else for (const cue of token.matchAll(ZH_NEGATION)) cues.push(cue[0]);
  }
  return cues;
}

/** The parity of negation cues must match: one "not" on one side and none (or two) on the other is refused. */
export const negationGuard: Guard = (query, candidate) => {
  const q = negationCues(query);
  const c = negationCues(candidate);
  return q.length % 2 === c.length % 2 ? undefined : refusal('negation', q, c);
};

// ---------------------------------------------------------------------------------------------------
// quotes

const QUOTED =
  /"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』|《([^》]+)》|‘([^’]+)’|(?<![\p{L}\p{N}])'([^']+)'(?![\p{L}\p{N}])/gu;

/** Quoted strings longer than this are quoted speech, not a literal the answer depends on. */
const MAX_QUOTED = 40;

/** Letters and digits only, words separated by one space: `Oh, my God.` -> `oh my god`. */
function bare(text: string): string {
  return ` ${normalise(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
}

/**
 * The quoted strings of a text ("…", '…', “…”, ‘…’, 「…」, 『…』, 《…》) of at most 40 characters, as
 * letters and digits. CSV-doubled quotes (`""word""`) count as one. Exported for the specs.
 */
export function quotedStrings(text: string): string[] {
  const found: string[] = [];
  for (const match of text.normalize('NFKC').replace(/""/g, '"').matchAll(QUOTED)) {
    const inner = match.slice(1).find((group) => group !== undefined);
    if (inner === undefined || inner.length > MAX_QUOTED) continue;
    const literal = bare(inner);
    if (literal.trim() !== '') found.push(literal.trim());
  }
  return found;
}

/** A string quoted on either side must appear in the other (compared as letters and digits, whole words). */
export const quotesGuard: Guard = (query, candidate) => {
  const q = quotedStrings(query);
  const c = quotedStrings(candidate);
  const nq = bare(query);
  const nc = bare(candidate);
  const ok =
    q.every((s) => nc.includes(` ${s} `) || (/\p{Script=Han}/u.test(s) && nc.includes(s))) &&
    c.every((s) => nq.includes(` ${s} `) || (/\p{Script=Han}/u.test(s) && nq.includes(s)));
  return ok ? undefined : refusal('quotes', q, c);
};

// ---------------------------------------------------------------------------------------------------
// entities

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A guard that requires the same named entities on both sides. Matching ignores case; a name that starts
 * or ends with a letter or digit must stand as a word there (`Pro` is not found in `Product`), and the
 * longest name wins (`iPhone Pro` before `iPhone`).
 */
export function entitiesGuard(entities: readonly string[]): Guard {
  if (!Array.isArray(entities)) throw optionError('entities', 'an array of non-empty strings', entities);
  entities.forEach((entity, i) => {
    if (typeof entity !== 'string' || entity.trim() === '') {
      throw optionError(`entities[${i}]`, 'a non-empty string', entity);
    }
  });
  if (entities.length === 0) return () => undefined;
  const names = [...new Set(entities.map(normalise))].sort((x, y) => y.length - x.length);
  const pattern = new RegExp(
    names
      .map((name) => {
        const start = /^[\p{L}\p{N}]/u.test(name) && !/^\p{Script=Han}/u.test(name) ? '(?<![\\p{L}\\p{N}])' : '';
        const end = /[\p{L}\p{N}]$/u.test(name) && !/\p{Script=Han}$/u.test(name) ? '(?![\\p{L}\\p{N}])' : '';
        return `${start}${escapeRegExp(name)}${end}`;
      })
      .join('|'),
    'gu',
  );
  const find = (text: string): string[] => [...new Set([...normalise(text).matchAll(pattern)].map((m) => m[0]))].sort();
  return (query, candidate) => {
    const q = find(query);
    const c = find(candidate);
    return sameSet(q, c) ? undefined : refusal('entities', q, c);
  };
}

// ---------------------------------------------------------------------------------------------------

/** The guards `options` switches on, in order: numbers, negation, quotes, entities. Validates `options`. */
export function createGuards(options: GuardOptions = defaultGuards): readonly Guard[] {
  assertPlainObject('guards', options);
  assertKnownOptions('guard', options, GUARD_OPTIONS);
  for (const name of ['numbers', 'negation', 'quotes'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') throw optionError(name, 'a boolean', value);
  }
  const merged = {
    ...defaultGuards,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const guards: Guard[] = [];
  if (merged.numbers) guards.push(numbersGuard);
  if (merged.negation) guards.push(negationGuard);
  if (merged.quotes) guards.push(quotesGuard);
  if (merged.entities.length > 0) guards.push(entitiesGuard(merged.entities));
  else entitiesGuard(merged.entities);
  return guards;
}

/**
 * Whether `query` and the cached `candidate` question may be treated as the same: `{ same: true }`, or
 * the refusal of the first guard that objects. `guards` is a {@link GuardOptions} object (missing options
 * take {@link defaultGuards}) or a list of guard functions; to check many pairs, build the list once
 * with {@link createGuards}.
 */
export function checkGuards(
  query: string,
  candidate: string,
  guards: GuardOptions | readonly Guard[] = defaultGuards,
): GuardVerdict {
  if (typeof query !== 'string') throw optionError('query', 'a string', query);
  if (typeof candidate !== 'string') throw optionError('candidate', 'a string', candidate);
  const list = Array.isArray(guards) ? (guards as readonly Guard[]) : createGuards(guards as GuardOptions);
  for (const guard of list) {
    const refused = guard(query, candidate);
    if (refused !== undefined) return refused;
  }
  return { same: true };
}
