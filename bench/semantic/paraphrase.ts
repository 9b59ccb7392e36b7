import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** One labelled pair of the paraphrase evaluation (shared/eval/paraphrase/README.md). */
export interface ParaphrasePair {
  readonly a: string;
  readonly b: string;
  readonly label: 0 | 1;
  readonly source: string;
}

export type Language = 'en' | 'zh';

/**
 * `$PARAPHRASE_DIR`, else the first `shared/eval/paraphrase` found beside the repository or above it
 * (`/work/shared` for a repository at `/work/main` or at `/work/wt/<name>`).
 */
export function paraphraseDir(): string {
  if (process.env.PARAPHRASE_DIR !== undefined) return process.env.PARAPHRASE_DIR;
  const root = resolve(__dirname, '..', '..');
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'eval', 'paraphrase');
    if (existsSync(candidate) || dirname(dir) === dir) return candidate;
  }
}

export function loadParaphrases(language: Language, dir = paraphraseDir()): ParaphrasePair[] {
  const file = join(dir, `${language}-dev.jsonl`);
  if (!existsSync(file)) {
    throw new Error(
      `The paraphrase pairs are not at ${file}; set PARAPHRASE_DIR to the directory holding ${language}-dev.jsonl`,
    );
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ParaphrasePair);
}

/**
 * The README's baseline: cosine of character 3-gram counts of the NFKC-normalised, lower-cased text
 * padded with one space on each side.
 */
export function charTrigramCosine(x: string, y: string): number {
  const grams = (text: string): Map<string, number> => {
    const chars = [...` ${text.normalize('NFKC').toLowerCase()} `];
    const counts = new Map<string, number>();
    for (let i = 0; i + 3 <= chars.length; i++) {
      const gram = chars.slice(i, i + 3).join('');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    return counts;
  };
  const gx = grams(x);
  const gy = grams(y);
  let dot = 0;
  for (const [gram, n] of gx) dot += n * (gy.get(gram) ?? 0);
  const norm = (g: Map<string, number>) => Math.sqrt([...g.values()].reduce((s, n) => s + n * n, 0));
  const denominator = norm(gx) * norm(gy);
  return denominator === 0 ? 0 : dot / denominator;
}
