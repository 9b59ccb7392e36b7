import { refusal, type Guard } from './guard';
import { normalise } from './text';

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
