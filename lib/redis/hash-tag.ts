import { assertKeyPart, optionError } from '../core/validate';

/*
 * A Redis Cluster runs a script only if every key it names sits in one hash slot. Keys get there through
 * a hash tag: when a key holds `{...}` (the first `{`, then the first `}` after it, with at least one
 * character between), the cluster hashes only what is between the braces.
 *
 * cachet names each group of keys that one script touches after one key of the group, the anchor (a
 * ledger's totals hash, a circuit's state hash), and names the others `{<anchor>}<suffix>`. When the
 * anchor has no `}`, the tag of `{<anchor>}` is the whole anchor, so a companion hashes exactly as the
 * anchor does: the anchor keeps its plain name, which stays where it was on a single Redis, and different
 * anchors spread over the cluster as their names do. An anchor that already holds a tag (`{app}:ledger`)
 * has companions `<anchor><suffix>`, which share that tag.
 */

/** Whether a Redis Cluster hashes only part of `key`, its hash tag. Checked on characters: `{` and `}` are single UTF-8 bytes. */
export function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open === -1) return false;
  return key.indexOf('}', open + 1) > open + 1;
}

/** Whether `key` can anchor companions in its slot: it holds a hash tag, or it has no `}` at all. */
export function canAnchor(key: string): boolean {
  return hasHashTag(key) || !key.includes('}');
}

/**
 * The name of a key that a Redis Cluster puts in `anchor`'s slot: `{<anchor>}<suffix>`, or
 * `<anchor><suffix>` when the anchor holds a hash tag. `anchor` must pass {@link canAnchor}.
 * @example companionKey('cachet:ledger', ':batch:1') // '{cachet:ledger}:batch:1', slot of 'cachet:ledger'
 */
export function companionKey(anchor: string, suffix: string): string {
  return hasHashTag(anchor) ? anchor + suffix : `{${anchor}}${suffix}`;
}

/** {@link assertKeyPart}, and the part must be able to anchor companion keys ({@link canAnchor}). */
export function assertAnchorKeyPart(name: string, value: unknown): asserts value is string {
  assertKeyPart(name, value);
  if (!canAnchor(value)) {
    throw optionError(name, 'a key part without `}`, or one that holds a hash tag such as `{cachet}`', value);
  }
}
