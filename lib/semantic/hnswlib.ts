/**
 * The part of `hnswlib-node` (an optional peer dependency, a native build of hnswlib) that the semantic
 * cache uses, typed here so that cachet's declarations never name the package.
 */
export interface HnswGraph {
  initIndex(options: {
    maxElements: number;
    m?: number;
    efConstruction?: number;
    randomSeed?: number;
    allowReplaceDeleted?: boolean;
  }): void;
  resizeIndex(maxElements: number): void;
  addPoint(point: number[], label: number, replaceDeleted?: boolean): void;
  markDelete(label: number): void;
  searchKnn(query: number[], count: number): { distances: number[]; neighbors: number[] };
  getMaxElements(): number;
  getCurrentCount(): number;
  setEf(ef: number): void;
}

export interface Hnswlib {
  HierarchicalNSW: new (space: 'ip' | 'l2' | 'cosine', dimensions: number) => HnswGraph;
}

const PACKAGE = 'hnswlib-node';

function requireHnswlib(): Hnswlib {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded on first use
  return require('hnswlib-node') as Hnswlib;
}

let loader: () => Hnswlib = requireHnswlib;
/** `null`: tried, absent or broken (warned once). */
let loaded: Hnswlib | null | undefined;

/**
 * `hnswlib-node`, loaded the first time a partition asks for an approximate index; `undefined` when it
 * cannot be loaded (not installed, or its native build fails to load): a process warning says so once,
 * and the semantic cache goes on with the flat scan.
 */
export function loadHnswlib(): Hnswlib | undefined {
  if (loaded === undefined) {
    try {
      loaded = loader();
    } catch (error) {
      loaded = null;
      process.emitWarning(
        `semantic.index asks for an approximate index but ${PACKAGE} could not be loaded ` +
          `(${error instanceof Error ? error.message.split('\n')[0] : String(error)}); the semantic cache ` +
          `uses the exact flat scan instead. Install it with \`npm install ${PACKAGE}\`.`,
        { type: 'CachetSemanticWarning', code: 'CACHET_HNSWLIB_MISSING' },
      );
    }
  }
  return loaded ?? undefined;
}

/**
 * The loader seam, for tests: `loader` replaces `require('hnswlib-node')` (throw to simulate its absence),
 * and the next {@link loadHnswlib} calls it afresh (and warns afresh). Without an argument, the real one.
 * @internal
 */
export function setHnswlibLoader(next?: () => Hnswlib): void {
  loader = next ?? requireHnswlib;
  loaded = undefined;
}
