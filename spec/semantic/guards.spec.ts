import {
  checkGuards,
  createGuards,
  defaultGuards,
  entitiesGuard,
  extractNumbers,
  negationCues,
  negationGuard,
  numbersGuard,
  parseChineseNumber,
  quotedStrings,
  quotesGuard,
} from '../../lib/semantic/guards';

describe('near-miss guards', () => {
  describe('numbers', () => {
    it('refuses 7 days against 30 days, in English and in Chinese', () => {
      expect(checkGuards('Can I get a refund within 7 days?', 'Can I get a refund within 30 days?')).toEqual({
        same: false,
        guard: 'numbers',
        query: ['7 day'],
        candidate: ['30 day'],
      });
      expect(checkGuards('七天内可以退款吗', '三十天内可以退款吗')).toMatchObject({ same: false, guard: 'numbers' });
      expect(checkGuards('seven days refund', 'thirty days refund')).toMatchObject({ same: false, guard: 'numbers' });
    });

    it('reads digits, English number words and Chinese numerals as the same number', () => {
      expect(checkGuards('七天内可以退款吗', '7天之内能不能退款')).toEqual({ same: true });
      expect(checkGuards('Refund within seven days?', 'Refund within 7 days?')).toEqual({ same: true });
      expect(checkGuards('两千零五年', '2005年')).toEqual({ same: true });
      expect(checkGuards('借3万块', '借三万元')).toEqual({ same: true });
      expect(checkGuards('How would you make 1 million dollars?', 'How would you make one million dollars?')).toEqual({
        same: true,
      });
    });

    it('compares amounts, currencies, percentages and units', () => {
      expect(checkGuards('How much is $5 in euros?', 'How much is five dollars in euros?')).toEqual({ same: true });
      expect(checkGuards('How much is $5 in euros?', 'How much is €5 in dollars?')).toMatchObject({ same: false });
      expect(checkGuards('利率涨了百分之三十', '利率涨了30%')).toEqual({ same: true });
      expect(checkGuards('利率涨了30%', '利率涨了3%')).toMatchObject({ same: false, guard: 'numbers' });
      expect(checkGuards('Is a 7 day trial free?', 'Is a 7 week trial free?')).toMatchObject({ same: false });
      expect(checkGuards('1,000 users', '1000 users')).toEqual({ same: true });
      expect(checkGuards('a 5k salary', 'a 5000 salary')).toEqual({ same: true });
      expect(extractNumbers('3天五小时')).toEqual(['3 day', '5 h']);
    });

    it('compares dates: weekdays, months and relative days', () => {
      expect(checkGuards('周一开会吗', '星期二开会吗')).toMatchObject({ same: false, guard: 'numbers' });
      expect(checkGuards('周一开会吗', '星期一开会吗')).toEqual({ same: true });
      expect(checkGuards('Is the office open on Monday?', 'Is the office open on Tuesday?')).toMatchObject({
        same: false,
      });
      expect(checkGuards('明天会下雨吗', '今天会下雨吗')).toMatchObject({ same: false });
    });

    it('does not read numerals inside ordinary words as numbers', () => {
      expect(extractNumbers('百度一下，一样的问题')).toEqual([]);
      expect(extractNumbers('Which one is better?')).toEqual([]);
      expect(extractNumbers('古诗小池 杨万里')).toEqual([]);
      expect(parseChineseNumber('二十七')).toBe(27);
      expect(parseChineseNumber('一百零五')).toBe(105);
      expect(parseChineseNumber('1.5万')).toBe(15000);
    });
  });

  describe('negation', () => {
    it('refuses "Is X allowed?" against "Is X not allowed?", in English and in Chinese', () => {
      expect(checkGuards('Is smoking allowed here?', 'Is smoking not allowed here?')).toEqual({
        same: false,
        guard: 'negation',
        query: [],
        candidate: ['not'],
      });
      expect(checkGuards('Why can I log in?', "Why can't I log in?")).toMatchObject({ guard: 'negation' });
      expect(checkGuards('这里可以抽烟吗', '这里不可以抽烟吗')).toMatchObject({ same: false, guard: 'negation' });
      expect(checkGuards('花呗开通了吗', '花呗没有开通吗')).toMatchObject({ same: false, guard: 'negation' });
    });

    it('compares parity, so that two cues cancel and contractions equal their long form', () => {
      expect(checkGuards("I don't like it", 'I do not like it')).toEqual({ same: true });
      expect(negationGuard('It is allowed', 'It is not impossible, not at all')).toBeUndefined();
    });

    it('does not count A-not-A questions or words like 非常, 不错, 未来, "not only"', () => {
      expect(negationCues('能不能用花呗，是不是要开通，有没有额度')).toEqual([]);
      expect(negationCues('非常不错，未来可期')).toEqual([]);
      expect(negationCues('not only this, whether or not')).toEqual([]);
      expect(checkGuards('能不能用花呗付款', '可以用花呗付款吗')).toEqual({ same: true });
    });
  });

  describe('quotes', () => {
    it('requires a quoted string on either side to appear in the other', () => {
      expect(checkGuards('What does "carpe diem" mean?', 'What is the meaning of “carpe diem”?')).toEqual({
        same: true,
      });
      expect(checkGuards('What does "carpe diem" mean?', 'What does "carpe noctem" mean?')).toMatchObject({
        same: false,
        guard: 'quotes',
      });
      expect(checkGuards('「支付宝」怎么读', '「微信」怎么读')).toMatchObject({ guard: 'quotes' });
      expect(quotesGuard("What does 'ok' mean?", "What's the meaning of ok")).toBeUndefined();
    });

    it('finds every quote style but not apostrophes', () => {
      expect(quotedStrings(`"a" 'b' “c” ‘d’ 「e」 『f』 《g》 John's and Mary's`)).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
        'f',
        'g',
      ]);
    });
  });

  describe('entities', () => {
    it('refuses 花呗 against 借呗 when given the entity list, and lets them through without it', () => {
      const products = { entities: ['花呗', '借呗'] };
      expect(checkGuards('花呗怎么还款', '借呗怎么还款', products)).toEqual({
        same: false,
        guard: 'entities',
        query: ['花呗'],
        candidate: ['借呗'],
      });
      expect(checkGuards('花呗怎么还款', '借呗怎么还款')).toEqual({ same: true });
      expect(checkGuards('花呗怎么还款', '我的花呗如何还款', products)).toEqual({ same: true });
    });

    it('matches Latin names as whole words, ignoring case', () => {
      const plans = entitiesGuard(['Plus', 'Pro']);
      expect(plans('What does the Plus plan cost?', 'What does the Pro plan cost?')).toMatchObject({
        guard: 'entities',
      });
      expect(plans('What does the plus plan cost?', 'How much is the PLUS plan?')).toBeUndefined();
      expect(plans('Which product is best?', 'Which is the best product?')).toBeUndefined();
    });
  });

  describe('switches', () => {
    it('has every guard on by default, and switching one off changes the decision', () => {
      expect(defaultGuards).toEqual({ numbers: true, negation: true, quotes: true, entities: [] });
      expect(createGuards()).toEqual([numbersGuard, negationGuard, quotesGuard]);
      const days = ['Refund within 7 days?', 'Refund within 30 days?'] as const;
      expect(checkGuards(...days).same).toBe(false);
      expect(checkGuards(...days, { numbers: false })).toEqual({ same: true });
      const allowed = ['Is smoking allowed?', 'Is smoking not allowed?'] as const;
      expect(checkGuards(...allowed, { numbers: false }).same).toBe(false);
      expect(checkGuards(...allowed, { negation: false })).toEqual({ same: true });
      expect(checkGuards('"a" b', '"c" b', { quotes: false })).toEqual({ same: true });
    });

    it('accepts a list of guard functions', () => {
      expect(checkGuards('Refund within 7 days?', 'Refund within 30 days?', [negationGuard])).toEqual({ same: true });
    });

    it('rejects bad options with a TypeError naming them', () => {
      expect(() => checkGuards('a', 'b', { number: false } as never)).toThrow(
        new TypeError('Unknown guard option `number`; expected one of `numbers`, `negation`, `quotes`, `entities`'),
      );
      expect(() => checkGuards('a', 'b', { negation: 'no' } as never)).toThrow(
        'Expected `negation` to be a boolean, got `"no"` (string)',
      );
      expect(() => createGuards({ entities: ['花呗', ''] })).toThrow('Expected `entities[1]` to be a non-empty string');
      expect(() => createGuards({ entities: '花呗' as never })).toThrow(TypeError);
      expect(() => checkGuards(1 as never, 'b')).toThrow('Expected `query` to be a string, got `1` (number)');
    });
  });
});
