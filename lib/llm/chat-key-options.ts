import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import { CHAT_IGNORED_FIELDS } from './chat-key-fields';
import { MessageNormalizer } from './chat-normalize';

/** Which prompt normalisations to apply to message text (string content and `text` parts only). */
export interface ChatNormalizeOptions {
  /** Collapse every run of whitespace (newlines too) to one space and trim. @default false */
  readonly whitespace?: boolean;
  /** Unicode NFC, so composed and decomposed accents (`é` vs `e\u0301`) meet. @default false */
  readonly nfc?: boolean;
  /** Lower-case the text. Changes meaning for some prompts; only if asked. @default false */
  readonly lowercase?: boolean;
}

/** Options of {@link chatKeyPolicy} (which requires `tenant`) and {@link explainKey}. */
export interface ChatKeyOptions {
  /**
   * Prompt normalisation before hashing: `true` means `{ whitespace: true, nfc: true }` (never case).
   * @default false (texts are hashed exactly as sent)
   */
  readonly normalize?: boolean | ChatNormalizeOptions;
  /**
   * Cache calls that sample (temperature absent or above 0 without a `seed`, or `n` > 1 without a seed).
   * Off, such calls bypass the cache, because a cached sample would freeze one random answer forever.
   * @default false
   */
  readonly cacheNonDeterministic?: boolean;
  /**
   * The tenant of a call, called with the method's `this` and arguments; it becomes part of the key, so
   * tenants never share entries. It must return a non-empty string; anything else throws
   * {@link ChatKeyError} rather than share. `false` shares every entry between all callers, on purpose.
   * {@link chatKeyPolicy} requires a choice; {@link explainKey} treats absent as `false`.
   */
  readonly tenant?: false | ((this: any, ...args: any[]) => string);
  /** More request fields that do not change the answer (e.g. a provider's tracing field). @default [] */
  readonly ignoreFields?: readonly string[];
}

/** Every normalisation named, on or off. */
export type Normalization = Required<ChatNormalizeOptions>;
const NO_NORMALIZATION = { whitespace: false, nfc: false, lowercase: false } as const satisfies Normalization;
const NORMALIZE_TRUE = { whitespace: true, nfc: true, lowercase: false } as const satisfies Normalization;
const KNOWN = ['normalize', 'cacheNonDeterministic', 'tenant', 'ignoreFields'] as const;

/** Options resolved once, when the policy is made. */
export interface ResolvedChatKey {
  readonly normalize: Normalization;
  readonly cacheNonDeterministic: boolean;
  readonly tenant: ((this: any, ...args: any[]) => string) | undefined;
  readonly ignored: Readonly<Record<string, string>>;
  /** `undefined` when no normalisation is asked for. */
  readonly normalizer: MessageNormalizer | undefined;
}

/** Validates {@link ChatKeyOptions} and resolves them, once, when a policy is made or a key explained. */
export function resolveChatKeyOptions(options: ChatKeyOptions): ResolvedChatKey {
  assertPlainObject('options', options);
  assertKnownOptions('chatKeyPolicy', options, KNOWN);
  const { normalize, cacheNonDeterministic = false, tenant, ignoreFields = [] } = options;
  if (typeof cacheNonDeterministic !== 'boolean') {
    throw optionError('cacheNonDeterministic', 'a boolean', cacheNonDeterministic);
  }
  if (tenant !== undefined && tenant !== false && typeof tenant !== 'function') {
    throw optionError('tenant', 'a function or false', tenant);
  }
  const keyField = (f: unknown) => typeof f !== 'string' || f === 'model' || f === 'messages';
  if (!Array.isArray(ignoreFields) || ignoreFields.some(keyField)) {
    throw optionError('ignoreFields', "an array of field names other than 'model' and 'messages'", ignoreFields);
  }
  // No prototype, so a request field named `constructor` or `toString` is not mistaken for an ignored one.
  const ignored: Record<string, string> = Object.assign(
    Object.create(null) as Record<string, string>,
    CHAT_IGNORED_FIELDS,
  );
  for (const field of ignoreFields) ignored[field] = 'listed in `ignoreFields`';
  const n = resolveNormalize(normalize);
  const normalizer = n.whitespace || n.nfc || n.lowercase ? new MessageNormalizer(n) : undefined;
  return { normalize: n, cacheNonDeterministic, tenant: tenant || undefined, ignored, normalizer };
}

function resolveNormalize(normalize: ChatKeyOptions['normalize']): Normalization {
  if (normalize === undefined || normalize === false) return NO_NORMALIZATION;
  if (normalize === true) return NORMALIZE_TRUE;
  assertPlainObject('normalize', normalize);
  assertKnownOptions('normalize', normalize, Object.keys(NO_NORMALIZATION));
  const merged: { -readonly [K in keyof ChatNormalizeOptions]-?: boolean } = { ...NO_NORMALIZATION };
  for (const name of Object.keys(NO_NORMALIZATION) as (keyof ChatNormalizeOptions)[]) {
    const value = normalize[name];
    if (value !== undefined && typeof value !== 'boolean') throw optionError(`normalize.${name}`, 'a boolean', value);
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}
