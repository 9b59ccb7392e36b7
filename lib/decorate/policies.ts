/** One decorator applied to one method. */
export interface PolicyRecord {
  /** The decorator: `cached`, `rateLimited`, ... */
  readonly kind: string;
  /** The options it was given. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** What {@link describePolicies} returns for one method: its decorators, nearest to the method first. */
export interface MethodPolicies {
  readonly method: string;
  readonly static: boolean;
  readonly policies: readonly PolicyRecord[];
}

/**
 * The policies each decorated method carries, keyed by the function that is the method now. Kept here,
 * not in `reflect-metadata` or `Symbol.metadata`, so that importing cachet changes no global and the
 * list works the same in both decorator dialects.
 */
const carried = new WeakMap<object, readonly PolicyRecord[]>();

/**
 * Records that `replacement` (the decorated method from now on) applies `record` on top of the policies
 * `original` already carried, so stacked decorators list in order, nearest the method first.
 */
export function recordPolicy(original: object, replacement: object, record: PolicyRecord): void {
  carried.set(replacement, [...(carried.get(original) ?? []), record]);
}

/**
 * Lists every decorated method of a class (its own and inherited ones, static ones too) with its cachet
 * policies, for either decorator dialect. A method overridden in a subclass is listed as the subclass
 * defines it.
 *
 * @example
 * describePolicies(ModelClient)
 * // [{ method: 'complete', static: false, policies: [{ kind: 'cached', options: { ttl: '10m' } }] }]
 */
export function describePolicies(target: abstract new (...args: never[]) => unknown): MethodPolicies[] {
  return [...methodsOf(target.prototype as object, false), ...methodsOf(target, true)];
}

/** The decorated methods found walking from `start` up its prototype chain, nearest definition first. */
function methodsOf(start: object, isStatic: boolean): MethodPolicies[] {
  const found: MethodPolicies[] = [];
  const seen = new Set<PropertyKey>();
  const end = isStatic ? Function.prototype : Object.prototype;
  for (
    let holder: object | null = start;
    holder !== null && holder !== end;
    holder = Object.getPrototypeOf(holder) as object | null
  ) {
    for (const name of Reflect.ownKeys(holder)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const value = Object.getOwnPropertyDescriptor(holder, name)?.value as unknown;
      const policies = typeof value === 'function' ? carried.get(value) : undefined;
      if (policies !== undefined) found.push({ method: String(name), static: isStatic, policies });
    }
  }
  return found;
}
