import { optionError } from '../core/validate';

/** How instances of a registered class are stored and rebuilt; see {@link registerClass}. */
export interface ClassOptions<T extends object = object, D = unknown> {
  /**
   * The name stored with each instance. Every process that reads the entry must register a class under
   * this name, and no two classes may share it.
   * @default the class's `name`
   */
  readonly name?: string;
  /**
   * Turns an instance into the data to store (any value the cache can store). Give it, with `fromData`,
   * for classes whose state is not in their own enumerable properties (`#private` fields, getters over
   * hidden state). @default the instance's own enumerable properties
   */
  readonly toData?: (instance: T) => D;
  /**
   * Rebuilds an instance from what `toData` returned.
   * @default an object with the class's prototype and the stored properties; the constructor is not called
   */
  readonly fromData?: (data: D) => T;
}

/** A class as the codec knows it. */
export interface RegisteredClass {
  readonly name: string;
  readonly prototype: object;
  readonly toData: ((instance: object) => unknown) | undefined;
  readonly fromData: ((data: unknown) => object) | undefined;
}

type AnyClass<T extends object> = abstract new (...args: never[]) => T;

const byName = new Map<string, RegisteredClass>();
const byPrototype = new Map<object, RegisteredClass>();

/**
 * Lets instances of `Class` be cached by value and come back as instances of `Class` from every store,
 * memory and Redis alike: a DTO whose `@Exclude()`d fields a serializer hides, a `Money` value object.
 * Without it, a cache refuses a class instance (a `ValueEncodeError`, reported as the cache's `error`
 * event) rather than hand back a plain object that has lost its class.
 *
 * Register each class once, in every process that reads or writes its entries (beside the class is a
 * good place). Registering the same class again under the same name does nothing.
 *
 * @throws TypeError when the name is taken by another class, or the class is registered under another name.
 * @example
 * export class UserDto { id!: string; @Exclude() passwordHash!: string; }
 * registerClass(UserDto);
 * @example
 * class Money { #cents: bigint; constructor(cents: bigint) { this.#cents = cents; } get cents() { return this.#cents; } }
 * registerClass(Money, { toData: (m) => m.cents, fromData: (cents) => new Money(cents) });
 */
export function registerClass<T extends object, D = unknown>(
  Class: AnyClass<T>,
  options: ClassOptions<T, D> = {},
): void {
  if (typeof Class !== 'function' || typeof Class.prototype !== 'object' || Class.prototype === null) {
    throw optionError('Class', 'a class', Class);
  }
  const name = options.name ?? Class.name;
  if (typeof name !== 'string' || name.length === 0) throw optionError('name', 'a non-empty class name', name);
  if (options.toData !== undefined && typeof options.toData !== 'function')
    throw optionError('toData', 'a function', options.toData);
  if (options.fromData !== undefined && typeof options.fromData !== 'function')
    throw optionError('fromData', 'a function', options.fromData);
  if ((options.toData === undefined) !== (options.fromData === undefined)) {
    throw optionError('toData and fromData', 'both given or both absent', {
      toData: options.toData,
      fromData: options.fromData,
    });
  }
  const prototype = Class.prototype as object;
  const taken = byName.get(name);
  if (taken !== undefined && taken.prototype !== prototype) {
    throw new TypeError(
      `Expected a class name that no other registered class uses, got \`${name}\`: give one of them a \`name\``,
    );
  }
  const known = byPrototype.get(prototype);
  if (known !== undefined && known.name !== name) {
    throw new TypeError(
      `Expected \`${Class.name}\` to be registered once, got a second name \`${name}\` beside \`${known.name}\``,
    );
  }
  const entry: RegisteredClass = {
    name,
    prototype,
    toData: options.toData as ((instance: object) => unknown) | undefined,
    fromData: options.fromData as ((data: unknown) => object) | undefined,
  };
  byName.set(name, entry);
  byPrototype.set(prototype, entry);
}

/** The registration of the exact class of `instance` (a subclass needs its own), if any. */
export function registeredClassOf(instance: object): RegisteredClass | undefined {
  return byPrototype.size === 0 ? undefined : byPrototype.get(Object.getPrototypeOf(instance) as object);
}

/** The class registered under `name`, if any. */
export function registeredClassNamed(name: string): RegisteredClass | undefined {
  return byName.get(name);
}
