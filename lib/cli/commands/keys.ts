import { describeKey } from '../../cache/key-layout';
import { EXIT, usageError, type ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { formatTable } from '../format';

const DEFAULT_LIMIT = 100;

/** `cachet keys`: the entry keys of the caches under the prefix, found with `SCAN` on every master. */
export const keysCommand: Command = {
  name: 'keys',
  summary: 'List entry keys by namespace, method or glob (SCAN on every master, never KEYS)',
  usage: '[--namespace N] [--method M] [--match P] [--limit N]',
  details: [
    'Lists the keys of cached entries under the prefix (<prefix>:<namespace>:<method>:<digest>), with',
    "their namespace and method, as cache.keys() finds them: SCAN on each master. cachet's own keys",
    '(fill leases, tag sets, shared stats) only with --internal. Pass a key to `cachet inspect`.',
  ].join('\n'),
  options: {
    namespace: { type: 'string', value: 'N', description: 'Only keys of this namespace' },
    method: { type: 'string', value: 'M', description: 'Only keys of this method (Class.method)' },
    match: {
      type: 'string',
      value: 'P',
      description: 'A Redis glob the key without `<prefix>:` must match, e.g. chat:Assistant.*',
    },
    limit: { type: 'string', value: 'N', description: `Stop after N keys (default: ${DEFAULT_LIMIT})` },
    internal: { type: 'boolean', description: "Also list cachet's own keys: leases, tag sets, stats" },
  },
  async run({ values, out, session }: CommandContext): Promise<ExitCode> {
    const limit = Number(values.limit ?? DEFAULT_LIMIT);
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw usageError('keys', `Expected --limit to be a positive integer, got \`${String(values.limit)}\``);
    const s = await session();
    const pages = s.cache().keys({
      namespace: values.namespace as string | undefined,
      method: values.method as string | undefined,
      match: values.match as string | undefined,
      count: Math.min(limit, 1000),
      internal: values.internal === true,
    });
    const keys: string[] = [];
    let more = false;
    // Reading one key past the limit tells whether there are more; the scan stops there.
    scan: for await (const page of pages) {
      for (const key of page) {
        if (keys.length === limit) {
          more = true;
          break scan;
        }
        keys.push(key);
      }
    }
    if (out.json) {
      out.data({ prefix: s.prefix, keys, more });
      return EXIT.ok;
    }
    if (keys.length === 0) {
      out.print(`No keys under \`${s.prefix}:\` match`);
      return EXIT.ok;
    }
    const rows = keys.map((key) => {
      const described = describeKey(s.prefix, key);
      return [described?.namespace ?? '', described?.method ?? '', described?.kind ?? '', key];
    });
    const columns = ['namespace', 'method', 'kind', 'key'].map((header) => ({ header, align: 'left' as const }));
    out.print(formatTable(columns, rows));
    if (more) out.warn(`cachet: more than ${limit} keys match; showing the first ${limit} (raise --limit)`);
    return EXIT.ok;
  },
};
