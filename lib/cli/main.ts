#!/usr/bin/env node
/**
 * The `cachet` command line (package.json `bin`): `cachet stats`, `ledger`, `keys`, `inspect`,
 * `invalidate`, `warm`. See `cachet --help` and the README section "Command line: `cachet`".
 */
import { COMMANDS } from './commands';
import { runCli } from './run';

void runCli(process.argv.slice(2), COMMANDS, { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  // Let stdout drain (a pipe), then leave without waiting on timers a library may keep.
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
});
