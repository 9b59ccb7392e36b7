import { Presets, SingleBar } from 'cli-progress';
import type { Output } from './command';

/** The progress of a long command, as `cli-progress` draws it on stderr. */
export interface Progress {
  /** Sets how many items there are in all. */
  start(total: number): void;
  /** Moves the bar to `done` items, with the counts shown beside it. */
  update(done: number, counts: { readonly warmed: number; readonly cached: number; readonly failed: number }): void;
  stop(): void;
}

const SILENT: Progress = { start() {}, update() {}, stop() {} };

/**
 * A progress bar on stderr when stdout is a terminal and the output is for people; nothing otherwise
 * (a pipe, a CI log, `--json`), so that scripts read clean output.
 */
export function progressBar(out: Output, stream: NodeJS.WritableStream = process.stderr): Progress {
  if (out.json || !out.tty) return SILENT;
  const bar = new SingleBar(
    {
      stream,
      format: 'warming [{bar}] {value}/{total}  warmed {warmed}  cached {cached}  failed {failed}',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0, { warmed: 0, cached: 0, failed: 0 }),
    update: (done, counts) => bar.update(done, { ...counts }),
    stop: () => bar.stop(),
  };
}
