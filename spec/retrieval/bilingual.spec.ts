import { Bm25Index } from '../../lib/retrieval';
import { FAQ_PASSAGES, FAQ_QUERIES } from '../../demo/faq-corpus';

// The bilingual FAQ fixture: Chinese, English and mixed queries must rank their judged passages first.
describe('retrieval on the bilingual FAQ fixture', () => {
  const index = new Bm25Index();
  for (const passage of FAQ_PASSAGES) index.add({ id: passage.id, text: passage.text });

  it.each(FAQ_QUERIES.map((q) => [q.lang, q.text, q.relevant] as const))(
    '%s query %s ranks %j first',
    (_lang, text, relevant) => {
      const ranked = index.search(text, { topK: relevant.length }).map((hit) => hit.docId);
      expect(new Set(ranked)).toEqual(new Set(relevant));
    },
  );

  it('covers every language of query', () => {
    expect(new Set(FAQ_QUERIES.map((q) => q.lang))).toEqual(new Set(['zh', 'en', 'mixed']));
  });
});
