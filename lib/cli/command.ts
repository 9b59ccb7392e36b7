import type { Session } from './session';
import type { ExitCode } from './cli-error';

/** One option of a command, as `util.parseArgs` takes it, with what `--help` says of it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in `--help` (`URL`, `N`). */
  readonly value?: string;
  readonly description: string;
}

/** Where a command writes: results on stdout, progress and errors on stderr. */
export interface Output {
  /** `--json`: one JSON document on stdout instead of tables. */
  readonly json: boolean;
  /** Whether stdout is a terminal (a progress bar is shown only then, and never with `--json`). */
  readonly tty: boolean;
  /** Writes a line (or lines) on stdout. */
  print(text: string): void;
  /** Writes `value` as JSON on stdout. */
  data(value: unknown): void;
  /** Writes a line on stderr. */
  warn(text: string): void;
}

/** What a command runs with. */
export interface CommandContext {
  /** Option values by name, as `util.parseArgs` gives them. */
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
  readonly out: Output;
  /** Connects to Redis (once; the command line closes it after the command). */
  session(): Promise<Session>;
}

/** A `cachet` command: its name, its help and its options, and what it does. */
export interface Command {
  readonly name: string;
  /** One line for `cachet --help`. */
  readonly summary: string;
  /** The synopsis after `cachet <name>`, e.g. `[--namespace N]`. */
  readonly usage: string;
  /** Paragraphs for `cachet <name> --help`. */
  readonly details: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments: exactly this many. @default 0 */
  readonly positionals?: number;
  run(context: CommandContext): Promise<ExitCode>;
}
