import type { Command } from './command';
import { COMMON_OPTIONS, describeOptions } from './common-options';

/** `cachet --help`: the commands, the common options and the exit codes. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: cachet <command> [options]',
    '',
    "Looks into and manages cachet's caches in Redis.",
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options of every command:',
    describeOptions(COMMON_OPTIONS),
    '',
    EXIT_CODES,
    '',
    'Run `cachet <command> --help` for the options of a command.',
  ].join('\n');
}

/** `cachet <command> --help`. */
export function commandHelp(command: Command): string {
  const own = Object.keys(command.options).length > 0;
  return [
    `Usage: cachet ${command.name}${command.usage ? ` ${command.usage}` : ''} [options]`,
    '',
    command.summary,
    '',
    command.details,
    ...(own ? ['', 'Options:', describeOptions(command.options)] : []),
    '',
    'Options of every command:',
    describeOptions(COMMON_OPTIONS),
    '',
    EXIT_CODES,
  ].join('\n');
}

const EXIT_CODES = [
  'Exit codes:',
  '  0  done',
  '  1  the command ran and failed (Redis failed mid-way, a warmed call failed)',
  '  2  usage: unknown command or option, a bad value, a destructive command without --yes',
  '  3  Redis cannot be reached (or is not the cluster asked for)',
  '  4  Redis refused the credentials (NOAUTH, WRONGPASS)',
  '  5  no such key',
].join('\n');
