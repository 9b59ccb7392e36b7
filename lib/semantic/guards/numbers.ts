import { CURRENCY_SIGNS, EN_DATES, EN_SCALE, EN_SMALL, EN_UNITS, parseEnglishNumberWords } from './english-numbers';
import { parseChineseNumber, ZH_DATES, ZH_NOT_NUMBERS, ZH_UNITS, ZH_WEEKDAY } from './chinese-numbers';
import { refusal, type Guard } from './guard';
import { normalise, sameSet } from './text';

function canonicalNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
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
