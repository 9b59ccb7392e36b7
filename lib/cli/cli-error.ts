import { CachetError } from '../core/errors';

/**
 * The exit codes of `cachet`, one per kind of outcome, so that a script can tell a typo from an outage:
 * 0 done; 1 a command that ran and failed (Redis failed mid-way, a warmed call failed); 2 a usage error
 * (unknown command or option, a bad value, a destructive command without `--yes`); 3 Redis cannot be
 * reached (or is not the cluster asked for); 4 Redis refused the credentials; 5 the key asked for does not exist.
 */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, unreachable: 3, auth: 4, notFound: 5 } as const);

/** An exit code of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the command line reports as it is: its message on stderr, its exit code. */
export class CliError extends CachetError {
  readonly code = 'ERR_CACHET_CLI';

  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** A usage error (exit code 2) that points at the command's `--help`. */
export function usageError(command: string | undefined, message: string): CliError {
  const help = command === undefined ? 'cachet --help' : `cachet ${command} --help`;
  return new CliError(`${message} (see \`${help}\`)`, EXIT.usage);
}
