import { carryFrameworkMetadata } from './framework-metadata';
import { recordPolicy } from './policies';

type AnyMethod = (this: any, ...args: any[]) => any;

/** A method that returns a promise: what `@Cached` and the resilience decorators accept. */
export type AsyncMethod = (this: any, ...args: any[]) => Promise<any>;

/** A method that streams: an `async *` method, or one returning a promise of a stream (`@Cached({ stream: true })`). */
export type StreamingMethod = (this: any, ...args: any[]) => AsyncIterable<any> | Promise<AsyncIterable<any>>;

/**
 * A method decorator that works in both TypeScript dialects: TC39 standard decorators (TypeScript 5
 * without `experimentalDecorators`) and legacy decorators (`experimentalDecorators`, as NestJS uses).
 * `M` constrains the methods it accepts, so misuse fails to compile.
 */
export interface UniversalMethodDecorator<M extends AnyMethod> {
  <This, T extends M>(value: T, context: ClassMethodDecoratorContext<This, T>): T;
  <T extends M>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): void;
}

/** Where a decorator was applied; handed to the wrapper factory. */
export interface MethodSite {
  readonly methodName: string;
  /**
   * `Class.method` of the class that declares the method. Standard decorators do not see the class
   * when they run, so it is found from the first call's `this`, once.
   */
  qualifiedName(self: unknown): string;
}

/**
 * Builds a dialect-agnostic decorator from a wrapper factory. The wrapper keeps the framework metadata
 * (`reflect-metadata`) of the method it replaces, so decorators of NestJS and others work in any order. The options must already be validated:
 * the caller does that when the decorator factory (`@Cached(options)`) is evaluated, that is when the
 * class is defined.
 */
export function createMethodDecorator<M extends AnyMethod>(
  kind: string,
  options: Readonly<Record<string, unknown>>,
  wrap: (original: M, site: MethodSite) => M,
): UniversalMethodDecorator<M> {
  function decorate(...params: unknown[]): unknown {
    const [first, second, third] = params;
    if (isStandardContext(second)) {
      if (second.kind !== 'method') throw misuse(kind, String(second.name), second.kind);
      const methodName = String(second.name);
      let qualified: string | undefined;
      const replacement: M = wrap(first as M, {
        methodName,
        qualifiedName: (self) => (qualified ??= `${declaringClassName(self, methodName, replacement)}.${methodName}`),
      });
      nameLike(replacement, methodName);
      carryFrameworkMetadata(first as object, replacement);
      recordPolicy(first as object, replacement, { kind, options });
      return replacement;
    }
    const descriptor = third as PropertyDescriptor | undefined;
    const methodName = String(second);
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw misuse(kind, methodName, descriptor?.get || descriptor?.set ? 'accessor' : 'field');
    }
    const isStatic = typeof first === 'function';
    const owner = (isStatic ? first : (first as object).constructor) as { name: string };
    const qualified = `${owner.name}.${methodName}`;
    const original = descriptor.value as M;
    descriptor.value = wrap(original, { methodName, qualifiedName: () => qualified });
    nameLike(descriptor.value as M, methodName);
    carryFrameworkMetadata(original, descriptor.value as M);
    recordPolicy(original, descriptor.value as M, { kind, options });
    return undefined;
  }
  return decorate as UniversalMethodDecorator<M>;
}

function isStandardContext(value: unknown): value is ClassMethodDecoratorContext & { kind: string } {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value;
}

function misuse(kind: string, name: string, found: string): TypeError {
  return new TypeError(`Expected @${kind} to decorate a method, got the ${found} \`${name}\``);
}

function nameLike(fn: AnyMethod, name: string): void {
  Object.defineProperty(fn, 'name', { value: name, configurable: true });
}

/** Walks from `self` up its prototype chain to the object that holds `replacement` as `name`. */
function declaringClassName(self: unknown, name: string, replacement: AnyMethod): string {
  for (
    let holder = self as object | null;
    holder !== null && holder !== undefined;
    holder = Object.getPrototypeOf(holder)
  ) {
    if (
      Object.prototype.hasOwnProperty.call(holder, name) &&
      (holder as Record<string, unknown>)[name] === replacement
    ) {
      return typeof holder === 'function' ? holder.name : (holder.constructor as { name: string }).name;
    }
  }
  // Private methods live on no prototype; the runtime class is the best name there is.
  const ctor = typeof self === 'function' ? self : (self as { constructor?: { name: string } } | null)?.constructor;
  return ctor?.name ?? 'anonymous';
}
