import { parseArgs } from 'node:util';
import { parseDuration } from '../core/duration';
import { isInvalidationQueuedError, StoreError } from '../core/errors';
import { isRedisConnectError } from '../redis';
import { CliError, EXIT, usageError, type ExitCode } from './cli-error';
import type { Command, CommandContext, OptionSpec, Output } from './command';
import { COMMON_OPTIONS } from './common-options';
import { commandHelp, mainHelp } from './help';
import { Session } from './session';

/** The streams the command line writes to. */
export interface CliStreams {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Runs `cachet <command> [options]` and resolves its exit code ({@link EXIT}); it never throws. Errors
 * are reported on stderr, one line starting with `cachet:`.
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly Command[],
  streams: CliStreams,
): Promise<ExitCode> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  const out: Output = {
    json,
    tty: streams.stdout.isTTY === true,
    print: (text) => void streams.stdout.write(`${text}\n`),
    data: (value) => void streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    warn: (text) => void streams.stderr.write(`${text}\n`),
  };
  let session: Session | undefined;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const command = topic === undefined ? undefined : findCommand(commands, topic);
      out.print(command === undefined ? mainHelp(commands) : commandHelp(command));
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    const command = findCommand(commands, name);
    const { values, positionals } = parseOptions(command, rest);
    if (values.help === true) {
      out.print(commandHelp(command));
      return EXIT.ok;
    }
    const expected = command.positionals ?? 0;
    if (positionals.length !== expected) {
      const what = expected === 0 ? 'no arguments' : `${expected} argument${expected === 1 ? '' : 's'}`;
      throw usageError(command.name, `\`cachet ${command.name}\` takes ${what}, got ${positionals.length}`);
    }
    const timeoutMs = durationOption(command.name, 'timeout', values.timeout, '5s');
    const context: CommandContext = {
      values,
      positionals,
      out,
      session: async () =>
        (session ??= await Session.open({
          url: values.url as string | undefined,
          cluster: values.cluster === true,
          prefix: values.prefix as string | undefined,
          timeoutMs,
        })),
    };
    return await command.run(context);
  } catch (error) {
    const [message, code] = describeFailure(error);
    out.warn(`cachet: ${message}`);
    return code;
  } finally {
    await session?.close().catch(() => undefined);
  }
}

function findCommand(commands: readonly Command[], name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command !== undefined) return command;
  const known = commands.map((c) => c.name).join(', ');
  throw usageError(undefined, `Unknown command \`${name}\`: expected one of ${known}`);
}

function parseOptions(command: Command, args: string[]): ReturnType<typeof parseArgs> {
  const specs: Record<string, OptionSpec> = { ...COMMON_OPTIONS, ...command.options };
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short && { short: spec.short }), ...(spec.multiple && { multiple: true }) },
    ]),
  );
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // util.parseArgs says what was wrong (`Unknown option '--x'`); it is a usage error of this command.
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS'))
      throw usageError(command.name, (error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
    throw error;
  }
}

/** A duration option (`5s`, `250ms`, `1500`) in milliseconds; a usage error for anything else. */
export function durationOption(command: string, name: string, value: unknown, fallback: string): number {
  const text = value === undefined ? fallback : String(value);
  try {
    return parseDuration(name, /^\d+$/.test(text) ? Number(text) : text);
  } catch {
    throw usageError(command, `Expected --${name} to be a duration such as 5s, 250ms or 2m, got \`${text}\``);
  }
}

/** The message and exit code of a failure. */
function describeFailure(error: unknown): [string, ExitCode] {
  if (error instanceof CliError) return [error.message, error.exitCode];
  if (isRedisConnectError(error)) return [error.message, error.reason === 'auth' ? EXIT.auth : EXIT.unreachable];
  // The cache would replay it, but this process ends with the command: nothing is queued.
  if (isInvalidationQueuedError(error)) {
    const cause = error.cause instanceof Error ? error.cause.message : 'the store failed';
    return [`Redis did not take the invalidation (${cause}); nothing was queued: run the command again`, EXIT.failed];
  }
  if (error instanceof StoreError) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return [`${error.message}${cause.includes(error.message) ? '' : cause}`, EXIT.failed];
  }
  // Options validated by cachet itself (a prefix or a namespace): `Expected \`x\` to be ..., got ...`.
  if (error instanceof TypeError && error.message.startsWith('Expected ')) return [error.message, EXIT.usage];
  return [error instanceof Error ? (error.stack ?? error.message) : String(error), EXIT.failed];
}
