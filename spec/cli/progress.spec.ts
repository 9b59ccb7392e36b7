import { PassThrough } from 'node:stream';
import type { Output } from '../../lib/cli/command';
import { progressBar } from '../../lib/cli/progress';

/** An output for people (`json: false`) or scripts, on a terminal or not; it writes nothing itself. */
const output = (json: boolean, tty: boolean): Output => ({ json, tty, print() {}, data() {}, warn() {} });

/** A stream that says it is a terminal, 120 columns wide, and keeps what is written to it. */
function terminal(): { stream: PassThrough; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('the warm-up progress bar', () => {
  it('draws the bar with the counts on a terminal', () => {
    const { stream, text } = terminal();
    const bar = progressBar(output(false, true), stream);
    bar.start(4);
    bar.update(3, { warmed: 2, cached: 1, failed: 0 });
    bar.stop();
    expect(text()).toContain('3/4  warmed 2  cached 1  failed 0');
  });

  it('draws nothing when stdout is not a terminal, nor with --json', () => {
    for (const [json, tty] of [
      [false, false],
      [true, true],
    ] as const) {
      const { stream, text } = terminal();
      const bar = progressBar(output(json, tty), stream);
      bar.start(2);
      bar.update(2, { warmed: 2, cached: 0, failed: 0 });
      bar.stop();
      expect(text()).toBe('');
    }
  });
});
