import type { Command } from '../command';
import { inspectCommand } from './inspect';
import { invalidateCommand } from './invalidate';
import { keysCommand } from './keys';
import { ledgerCommand } from './ledger';
import { statsCommand } from './stats';
import { warmCommand } from './warm';

/** Every `cachet` command, in the order `cachet --help` lists them. */
export const COMMANDS: readonly Command[] = [
  statsCommand,
  ledgerCommand,
  keysCommand,
  inspectCommand,
  invalidateCommand,
  warmCommand,
];
