/**
 * The Cranfield collection (../shared/eval/cranfield, or $CRANFIELD_DIR) and the measures its README
 * asks for: nDCG@10 with graded gains and log2 discount, recall@10 and recall@100 (relevant = grade > 0).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Cranfield {
  readonly docs: readonly { readonly id: string; readonly text: string }[];
  readonly queries: readonly { readonly id: string; readonly text: string }[];
  /** query id -> doc id -> grade */
  readonly qrels: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export function cranfieldDir(): string {
  return process.env.CRANFIELD_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'eval', 'cranfield');
}

export function loadCranfield(dir = cranfieldDir()): Cranfield {
  if (!existsSync(join(dir, 'docs.jsonl'))) {
    throw new Error(`The Cranfield collection is not at ${dir}; set CRANFIELD_DIR to the directory holding docs.jsonl`);
  }
  const lines = (file: string) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
  const docs = lines('docs.jsonl')
    .map((l) => JSON.parse(l) as { id: string; title: string; text: string })
    .map((d) => ({ id: d.id, text: d.text }));
  const queries = lines('queries-dev.jsonl').map((l) => JSON.parse(l) as { id: string; text: string });
  const qrels = new Map<string, Map<string, number>>();
  for (const line of lines('qrels-dev.tsv').slice(1)) {
    const [query, doc, grade] = line.split('\t');
    let judged = qrels.get(query!);
    if (judged === undefined) qrels.set(query!, (judged = new Map()));
    judged.set(doc!, Number(grade));
  }
  return { docs, queries, qrels };
}

/** nDCG@k of a ranked list of doc ids against graded judgments. */
export function ndcgAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((doc, i) => (dcg += (judged.get(doc) ?? 0) / Math.log2(i + 2)));
  const ideal = [...judged.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  let idcg = 0;
  ideal.forEach((grade, i) => (idcg += grade / Math.log2(i + 2)));
  return idcg === 0 ? 0 : dcg / idcg;
}

/** Share of the relevant documents (grade > 0) found in the first k. */
export function recallAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  const relevant = [...judged].filter(([, g]) => g > 0).map(([d]) => d);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((d) => top.has(d)).length / relevant.length;
}
