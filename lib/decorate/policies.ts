import 'reflect-metadata';

// TC39 decorators hand out `context.metadata` only where `Symbol.metadata` exists; Node 20 lacks it.
// Defining it (as core-js does) before any class is decorated turns it on.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata');

const POLICIES = 'cachet:policies';

/** One decorator applied to one method. */
export interface PolicyRecord {
  /** The method's name. */
  readonly method: string;
  readonly static: boolean;
  /** The decorator: `cached`, `rateLimited`, ... */
  readonly kind: string;
  /** The options it was given. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** What {@link describePolicies} returns for one method: its decorators, nearest to the method first. */
export interface MethodPolicies {
  readonly method: string;
  readonly static: boolean;
  readonly policies: readonly { readonly kind: string; readonly options: Readonly<Record<string, unknown>> }[];
}

/** Records a policy in legacy-decorator metadata (reflect-metadata, on the class). */
export function recordLegacyPolicy(target: object, record: PolicyRecord): void {
  const list = (Reflect.getMetadata(POLICIES, target) as PolicyRecord[] | undefined) ?? [];
  // A copy, so a subclass never appends to its parent's list.
  Reflect.defineMetadata(POLICIES, [...list, record], target);
}

/** Records a policy in standard-decorator metadata (`context.metadata`, inherited by subclasses). */
export function recordStandardPolicy(metadata: DecoratorMetadataObject | undefined, record: PolicyRecord): void {
  if (metadata === undefined) return;
  const bag = metadata as Record<string, PolicyRecord[] | undefined>;
  bag[POLICIES] = [...(bag[POLICIES] ?? []), record];
}

/**
 * Lists every decorated method of a class (its own and inherited ones) with its cachet policies, for
 * either decorator dialect.
 *
 * @example
 * describePolicies(ModelClient)
 * // [{ method: 'complete', static: false, policies: [{ kind: 'cached', options: { ttl: '10m' } }] }]
 */
export function describePolicies(target: abstract new (...args: never[]) => unknown): MethodPolicies[] {
  const legacy = (Reflect.getMetadata(POLICIES, target) as PolicyRecord[] | undefined) ?? [];
  const metadataKey = (Symbol as { metadata?: symbol }).metadata as symbol;
  const standardBag = (target as unknown as Record<symbol, Record<string, PolicyRecord[] | undefined> | undefined>)[metadataKey];
  const standard = standardBag?.[POLICIES] ?? [];
  const byMethod = new Map<string, { method: string; static: boolean; policies: { kind: string; options: Readonly<Record<string, unknown>> }[] }>();
  for (const record of [...legacy, ...standard]) {
    const id = `${record.static ? 'static ' : ''}${record.method}`;
    let entry = byMethod.get(id);
    if (entry === undefined) byMethod.set(id, (entry = { method: record.method, static: record.static, policies: [] }));
    entry.policies.push({ kind: record.kind, options: record.options });
  }
  return [...byMethod.values()];
}
