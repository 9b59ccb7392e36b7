/**
 * Option validation shared by every constructor and decorator. All failures are `TypeError`s with one
 * message format: ``Expected `limit` to be a positive integer, got `0` (number)``.
 */

function describeValue(value: unknown): string {
  let shown: string;
  if (typeof value === 'string') shown = JSON.stringify(value);
  else if (typeof value === 'function') shown = value.name ? `[function ${value.name}]` : '[function]';
  else if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'symbol') shown = value.toString();
  else if (value === null || typeof value !== 'object') shown = String(value);
  else {
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = Object.prototype.toString.call(value);
    }
    if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  }
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}

/** Builds the standard option error. `expected` reads after "to be", e.g. "a positive integer". */
export function optionError(name: string, expected: string, got: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got ${describeValue(got)}`);
}

export function assertFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw optionError(name, 'a function', value);
}

export function assertOptionalFunction(name: string, value: unknown): void {
  if (value !== undefined) assertFunction(name, value);
}

export function assertPositiveInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw optionError(name, 'a positive integer', value);
  }
}

export function assertNonNegativeNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw optionError(name, 'a finite number >= 0', value);
  }
}

export function assertOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw optionError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
}

/** A part of a Redis key or channel (a tag, a name): non-empty, printable, no whitespace. `:` is allowed (`agent:42`). */
export function assertKeyPart(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200 || /[\s\u0000-\u001f]/.test(value)) {
    throw optionError(name, 'a non-empty string of at most 200 characters without whitespace', value);
  }
}

/**
 * A cache's `prefix` or a `namespace`: a key part without `:`, since `:` separates the segments of a
 * key and clearing by prefix or namespace matches up to the next `:`. With one inside, clearing
 * namespace `a` would also remove namespace `a:b`.
 */
export function assertKeySegment(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200 || /[\s\u0000-\u001f:]/.test(value)) {
    throw optionError(name, 'a non-empty string of at most 200 characters without whitespace or `:`', value);
  }
}

/** Segments of a cache's keys that hold its own bookkeeping (`<prefix>:tag:<tag>`), so no namespace may take them. */
const RESERVED_NAMESPACES: readonly string[] = ['tag'];

/** A cache namespace: a {@link assertKeySegment key segment} that is not {@link RESERVED_NAMESPACES reserved}. */
export function assertNamespace(name: string, value: unknown): asserts value is string {
  assertKeySegment(name, value);
  if (RESERVED_NAMESPACES.includes(value)) {
    throw optionError(
      name,
      `a namespace other than ${RESERVED_NAMESPACES.map((n) => `\`${n}\``).join(', ')} (the cache's tag sets live there)`,
      value,
    );
  }
}

/** Rejects unknown option names, which are nearly always typos (`tll` for `ttl`). */
export function assertKnownOptions(what: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new TypeError(
        `Unknown ${what} option \`${name}\`; expected one of ${known.map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
}

export function assertPlainObject(name: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw optionError(name, 'an options object', value);
  }
}

/**
 * Merges options over defaults, ignoring options that are present but `undefined` (as in
 * `{ ttl: config.ttl }` with no config), which a plain spread would let erase the default.
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged = { ...defaults } as Record<string, unknown>;
  for (const [name, value] of Object.entries(options)) if (value !== undefined) merged[name] = value;
  return merged as D & O;
}
