import { cosine, recallAtFalseHitRate, rocAuc } from '../../lib/semantic/calibrate';
import { entitiesGuard, negationGuard, numbersGuard, quotesGuard, type Guard } from '../../lib/semantic/guards';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';
import { charTrigramCosine, loadParaphrases, type Language, type ParaphrasePair } from '../semantic/paraphrase';
import { atLeast, row, type Result, type Scenario } from '../support/scenario';

const NAME = 'semantic';

/** The entity list the bench hands the entities guard: AFQMC's two products. None for English. */
const ENTITIES: Readonly<Record<Language, readonly string[]>> = { en: [], zh: ['花呗', '借呗'] };

/**
 * The semantic cache's "same meaning?" decision on the paraphrase dev pairs (../shared/eval/paraphrase,
 * or $PARAPHRASE_DIR; helpers in semantic/paraphrase.ts): ROC-AUC and recall at a false-hit rate of 1 %
 * and 5 % of the offline embedder's cosine, alone and behind the guards (a refused pair scores
 * -Infinity), per language and per source, beside the README's character 3-gram cosine computed in the
 * same run; then, per guard and source, the false hits it removes and the paraphrases it loses at the
 * language's cosine threshold for 5 %.
 */
export const semantic: Scenario = {
  name: NAME,
  measures:
    'OfflineEmbedder cosine (alone, and behind the numbers/negation/quotes/entities guards) on the paraphrase dev pairs',
  baseline:
    "cosine of character 3-gram counts (NFKC, lower-cased, space-padded), the README's baseline, computed in the same run; for guard rows, the baseline column is the paraphrases the guard loses",
  async run(): Promise<Result[]> {
    const embedder = new OfflineEmbedder();
    const rows: Result[] = [];
    for (const language of ['en', 'zh'] as const) {
      const pairs = loadParaphrases(language);
      const vectors = await embedder.embed(pairs.flatMap((p) => [p.a, p.b]));
      const ours = pairs.map((_, i) => cosine(vectors[2 * i]!, vectors[2 * i + 1]!));
      const base = pairs.map((p) => charTrigramCosine(p.a, p.b));
      const guards: [string, Guard][] = [
        ['numbers', numbersGuard],
        ['negation', negationGuard],
        ['quotes', quotesGuard],
      ];
      if (ENTITIES[language].length > 0) {
        guards.push([`entities ${ENTITIES[language].join('/')}`, entitiesGuard(ENTITIES[language])]);
      }
      const refusedBy = guards.map(([, guard]) => pairs.map((p) => guard(p.a, p.b) !== undefined));
      const guarded = ours.map((s, i) => (refusedBy.some((r) => r[i]) ? -Infinity : s));

      const sources = [...new Set(pairs.map((p) => p.source))];
      for (const scope of ['all', ...sources]) {
        const idx = pairs.flatMap((p, i) => (scope === 'all' || p.source === scope ? [i] : []));
        const labels = idx.map((i) => pairs[i]!.label);
        const pick = (scores: readonly number[]) => idx.map((i) => scores[i]!);
        const where = `${language} ${scope} (${count(pairs, idx)})`;
        for (const [scorer, scores] of [
          ['cosine', ours],
          ['cosine+guards', guarded],
        ] as const) {
          const auc = rocAuc(pick(scores), labels);
          // The target is on cosine alone: behind the guards every refused paraphrase ranks last, which ROC-AUC
          // punishes although no threshold would have served it; recall@FHR is the guards' measure.
          const target = scope === 'all' && scorer === 'cosine' ? atLeast(1) : undefined;
          rows.push(row(NAME, `${where} · ROC-AUC · ${scorer}`, 'AUC', auc, rocAuc(pick(base), labels), target));
          for (const rate of [0.01, 0.05]) {
            const r = recallAtFalseHitRate(pick(scores), labels, rate);
            const b = recallAtFalseHitRate(pick(base), labels, rate);
            rows.push(
              row(
                NAME,
                `${where} · recall@FHR≤${rate * 100}% · ${scorer}`,
                'recall',
                r.recall,
                b.recall,
                undefined,
                `t ${r.threshold.toFixed(3)} (baseline t ${b.threshold.toFixed(3)})`,
              ),
            );
          }
        }
      }

      // Each guard alone, at the language's cosine threshold for a 5 % false-hit rate.
      const t5 = recallAtFalseHitRate(
        ours,
        pairs.map((p) => p.label),
        0.05,
      ).threshold;
      guards.forEach(([name, _guard], g) => {
        for (const scope of ['all', ...sources]) {
          const idx = pairs.flatMap((p, i) => (scope === 'all' || p.source === scope ? [i] : []));
          const hits = idx.filter((i) => ours[i]! > t5);
          const removed = hits.filter((i) => pairs[i]!.label === 0 && refusedBy[g]![i]).length;
          const lost = hits.filter((i) => pairs[i]!.label === 1 && refusedBy[g]![i]).length;
          const refusedNeg = idx.filter((i) => pairs[i]!.label === 0 && refusedBy[g]![i]).length;
          const refusedPos = idx.filter((i) => pairs[i]!.label === 1 && refusedBy[g]![i]).length;
          const falseHits = hits.filter((i) => pairs[i]!.label === 0).length;
          rows.push(
            row(
              NAME,
              `${language} ${scope} · guard ${name} at cosine t@5%: false hits removed / hits lost`,
              'pairs',
              removed,
              lost,
              undefined,
              `of ${falseHits} false hits and ${hits.length - falseHits} hits at t ${t5.toFixed(3)}; refuses ${refusedNeg} of ${count(pairs, idx, 0)} near misses and ${refusedPos} of ${count(pairs, idx, 1)} paraphrases in all`,
            ),
          );
        }
      });
    }
    return rows;
  },
};

function count(pairs: readonly ParaphrasePair[], idx: readonly number[], label?: 0 | 1): number {
  return label === undefined ? idx.length : idx.filter((i) => pairs[i]!.label === label).length;
}
