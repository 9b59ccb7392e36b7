/** The Chinese vocabulary of the numbers guard: units, date words, numeral parsing. */

/** Chinese unit words -> the canonical unit (`''` for a bare measure word). Longest first, so that 个小时 is read before 小时 and 公斤 before 斤. */
export const ZH_UNITS: readonly [string, string][] = (
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

/** Relative days and years, read as dates (`date:明天`). */
export const ZH_DATES = [
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
/** A weekday: 星期三, 礼拜天, 周5. */
export const ZH_WEEKDAY = /(星期|礼拜|周)([一二三四五六日天1-7])/gu;

/** Words whose characters are numerals but that are not numbers. */
export const ZH_NOT_NUMBERS = [
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
