import { formatLedgerReport } from '../../ledger/ledger-report';
import { RedisCostLedger } from '../../redis';
import { EXIT, type ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';

/** `cachet ledger`: what the cache spent and saved, by namespace, tenant and model. */
export const ledgerCommand: Command = {
  name: 'ledger',
  summary: 'Money and tokens spent and saved, by namespace, tenant and model (RedisCostLedger)',
  usage: '[--namespace N] [--tenant T] [--model M]',
  details: [
    'Reads the totals every instance adds to the RedisCostLedger hash: per namespace, tenant and model,',
    'the calls, the hit rate, the calls avoided, the tokens and the dollars spent on misses and saved by hits.',
  ].join('\n'),
  options: {
    namespace: { type: 'string', value: 'N', description: 'Only rows of this namespace' },
    tenant: { type: 'string', value: 'T', description: 'Only rows of this tenant' },
    model: { type: 'string', value: 'M', description: 'Only rows of this model' },
    'ledger-key': {
      type: 'string',
      value: 'KEY',
      description: "The ledger's hash, as given to RedisCostLedger's `key` (default: cachet-ledger)",
    },
  },
  async run({ values, out, session }: CommandContext): Promise<ExitCode> {
    const s = await session();
    const key = (values['ledger-key'] as string | undefined) ?? 'cachet-ledger';
    const ledger = new RedisCostLedger({ client: s.redis.client, key, operationTimeout: s.timeoutMs });
    try {
      const report = await ledger.report({
        namespace: values.namespace as string | undefined,
        tenant: values.tenant as string | undefined,
        model: values.model as string | undefined,
      });
      if (out.json) out.data({ key, ...report });
      else if (report.rows.length === 0) out.print(`No ledger rows in ${key}${filtered(values) ? ' match' : ''}`);
      else out.print(formatLedgerReport(report));
      return EXIT.ok;
    } finally {
      await ledger.close().catch(() => undefined);
    }
  },
};

function filtered(values: CommandContext['values']): boolean {
  return values.namespace !== undefined || values.tenant !== undefined || values.model !== undefined;
}
