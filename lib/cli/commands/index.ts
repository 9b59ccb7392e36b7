import type { Command } from '../command';
import { invalidateCommand } from './invalidate';
import { ledgerCommand } from './ledger';
import { statsCommand } from './stats';
import { warmCommand } from './warm';

/** Every `cachet` command, in the order `cachet --help` lists them. */
export const COMMANDS: readonly Command[] = [statsCommand, ledgerCommand, invalidateCommand, warmCommand];
