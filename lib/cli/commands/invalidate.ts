import { describeKey } from '../../cache/key-layout';
import { assertKeyPart, assertNamespace } from '../../core/validate';
import { CliError, EXIT, usageError, type ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';
import type { Session } from '../session';

/** What one `cachet invalidate` removes. */
type Target =
  | { readonly kind: 'tag'; readonly tags: readonly string[] }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'key'; readonly keys: readonly string[] };

/** `cachet invalidate`: removes entries by tag, namespace or key; refused without `--yes`. */
export const invalidateCommand: Command = {
  name: 'invalidate',
  summary: 'Remove entries by tag, by namespace or by key (refused without --yes)',
  usage: '--tag T... | --namespace N | --key K... [--yes]',
  details: [
    'Removes, on every instance that shares the Redis, the entries tagged T (as cache.invalidateTags),',
    'every entry of namespace N (as cache.clear({ namespace })), or the entries with the keys K',
    '(as cache.invalidateKey: a fill of such a key running then does not store its value again).',
    'Without --yes nothing is removed: it says what would go and how many entries there are now,',
    'and exits with code 2.',
  ].join('\n'),
  options: {
    tag: { type: 'string', multiple: true, value: 'T', description: 'Entries carrying this tag' },
    namespace: { type: 'string', value: 'N', description: 'Every entry of this namespace' },
    key: { type: 'string', multiple: true, value: 'K', description: 'The entry with this key (<prefix>:...)' },
    yes: { type: 'boolean', short: 'y', description: 'Remove them' },
  },
  async run({ values, out, session }: CommandContext): Promise<ExitCode> {
    const target = targetOf(values);
    const s = await session();
    const what = describe(target, s.prefix);
    if (values.yes !== true) {
      const count = await countNow(s, target);
      if (out.json)
        out.data({ removed: 0, refused: true, wouldRemove: count, target: { ...target, prefix: s.prefix } });
      out.warn(
        `cachet: refusing to remove ${count} ${count === 1 ? 'entry' : 'entries'} ${what} without --yes; ` +
          'run again with --yes to remove them',
      );
      return EXIT.usage;
    }
    const removed = await remove(s, target);
    if (out.json) out.data({ removed, target: { ...target, prefix: s.prefix } });
    else out.print(`Removed ${removed} ${removed === 1 ? 'entry' : 'entries'} ${what}`);
    return EXIT.ok;
  },
};

function targetOf(values: CommandContext['values']): Target {
  const tags = (values.tag as string[] | undefined) ?? [];
  const keys = (values.key as string[] | undefined) ?? [];
  const namespace = values.namespace as string | undefined;
  const given = [tags.length > 0, namespace !== undefined, keys.length > 0].filter(Boolean).length;
  if (given !== 1) throw usageError('invalidate', 'Expected exactly one of --tag, --namespace and --key');
  if (namespace !== undefined) {
    assertNamespace('namespace', namespace);
    return { kind: 'namespace', namespace };
  }
  if (tags.length > 0) {
    tags.forEach((tag) => assertKeyPart('tag', tag));
    return { kind: 'tag', tags };
  }
  return { kind: 'key', keys };
}

function describe(target: Target, prefix: string): string {
  if (target.kind === 'tag') return `tagged ${target.tags.map((t) => `\`${t}\``).join(' or ')} (prefix \`${prefix}\`)`;
  if (target.kind === 'namespace') return `of namespace \`${target.namespace}\` (${prefix}:${target.namespace}:*)`;
  return `with key ${target.keys.map((k) => `\`${k}\``).join(', ')}`;
}

/** How many entries the target holds now: keys of a namespace, members of the tag sets, keys that exist. */
async function countNow(s: Session, target: Target): Promise<number> {
  if (target.kind === 'namespace') {
    let count = 0;
    for await (const page of s.cache().keys({ namespace: target.namespace, count: 500 })) count += page.length;
    return count;
  }
  const client = s.store.client;
  if (target.kind === 'key') {
    let count = 0;
    for (const key of ownKeys(s, target.keys)) count += await client.sendCommand<number>(['EXISTS', key]);
    return count;
  }
  // A tag set may still name entries that expired since, and an entry may carry several of the tags: the
  // sum of the sets' sizes is an upper bound (SCARD, not SMEMBERS, so a large tag costs one reply).
  let count = 0;
  for (const tag of target.tags) count += await client.sendCommand<number>(['SCARD', `${s.prefix}:tag:${tag}`]);
  return count;
}

async function remove(s: Session, target: Target): Promise<number> {
  const cache = s.cache();
  if (target.kind === 'tag') return cache.invalidateTags(target.tags);
  if (target.kind === 'namespace') return cache.clear({ namespace: target.namespace });
  // Each key stamped as `cache.invalidate` stamps it, so a fill of it running now does not store it again.
  let removed = 0;
  for (const key of ownKeys(s, target.keys)) if (await cache.invalidateKey(key)) removed++;
  return removed;
}

/** The keys, each checked to be an entry's key under the prefix: the command never removes a key no cache owns. */
function ownKeys(s: Session, keys: readonly string[]): readonly string[] {
  for (const key of keys)
    if (describeKey(s.prefix, key)?.kind !== 'entry')
      throw new CliError(
        `Expected --key to be the key of an entry under \`${s.prefix}:\` (as \`cachet keys\` lists them), got \`${key}\``,
        EXIT.usage,
      );
  return keys;
}
