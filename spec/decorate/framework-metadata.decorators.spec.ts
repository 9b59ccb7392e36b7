import 'reflect-metadata';
import {
  Cache,
  Cached,
  CircuitBreaker,
  Concurrency,
  Fallback,
  InvalidatesCache,
  RateLimited,
  Retry,
  Timeout,
  type UniversalMethodDecorator,
} from '../../lib';

// Every cachet decorator keeps the reflect-metadata of the method it wraps (what NestJS's @Get(), @UseGuards()
// and SetMetadata write), in both dialects, whichever order the decorators come in.

/** A framework-style decorator that writes reflect-metadata on the method, in either dialect. */
function Tag(key: string, value: unknown): (...args: any[]) => any {
  return (...args: unknown[]) => {
    const method = (args.length === 2 ? args[0] : (args[2] as PropertyDescriptor).value) as object;
    Reflect.defineMetadata(key, value, method);
    return args.length === 2 ? method : undefined;
  };
}

const cache = new Cache();
const decorators: [string, () => UniversalMethodDecorator<any>][] = [
  ['Cached', () => Cached({ cache, ttl: '1m' })],
  ['InvalidatesCache', () => InvalidatesCache({ cache, tags: ['t'] })],
  ['RateLimited', () => RateLimited({ limit: 10, interval: '1s' })],
  ['Retry', () => Retry({ attempts: 2 })],
  ['Timeout', () => Timeout('1s')],
  ['CircuitBreaker', () => CircuitBreaker({ threshold: 5 })],
  ['Concurrency', () => Concurrency({ max: 2 })],
  ['Fallback', () => Fallback({ value: 'fallback' })],
];

describe.each(decorators)('@%s and framework metadata', (_name, decorator) => {
  it('keeps the metadata written before it (the framework decorator below)', async () => {
    class Service {
      @decorator()
      @Tag('path', '/items')
      @Tag('guards', ['AuthGuard'])
      async run(): Promise<string> {
        return 'ran';
      }
    }
    const method = Service.prototype.run;
    expect(Reflect.getMetadata('path', method)).toBe('/items');
    expect(Reflect.getMetadata('guards', method)).toEqual(['AuthGuard']);
    expect(await new Service().run()).toBe('ran');
  });

  it('carries the metadata written after it (the framework decorator above)', () => {
    class Service {
      @Tag('path', '/items')
      @decorator()
      async run(): Promise<string> {
        return 'ran';
      }
    }
    expect(Reflect.getMetadata('path', Service.prototype.run)).toBe('/items');
  });

  it('keeps both when the framework decorators are on either side', () => {
    class Service {
      @Tag('path', '/items')
      @decorator()
      @Tag('roles', ['admin'])
      async run(): Promise<string> {
        return 'ran';
      }
    }
    expect(Reflect.getMetadataKeys(Service.prototype.run)).toEqual(expect.arrayContaining(['path', 'roles']));
  });
});

describe('framework metadata through a stack of cachet decorators', () => {
  it('reaches the outermost wrapper, and the nearer decorator wins a key set on both sides', () => {
    class Service {
      @Tag('path', '/outer')
      @Fallback({ value: 'fallback' })
      @Cached({ cache, ttl: '1m' })
      @Retry({ attempts: 2 })
      @Tag('path', '/inner')
      @Tag('roles', ['admin'])
      async run(): Promise<string> {
        return 'ran';
      }
    }
    expect(Reflect.getMetadata('roles', Service.prototype.run)).toEqual(['admin']);
    expect(Reflect.getMetadata('path', Service.prototype.run)).toBe('/outer');
  });

  it('leaves the original method its own metadata and does not share the wrapper keys with it', () => {
    let original: object | undefined;
    const capture = (...args: unknown[]) => {
      original = (args.length === 2 ? args[0] : (args[2] as PropertyDescriptor).value) as object;
    };
    class Service {
      @Tag('after', true)
      @Cached({ cache, ttl: '1m' })
      @(capture as (...args: any[]) => void)
      @Tag('before', true)
      async run(): Promise<string> {
        return 'ran';
      }
    }
    expect(Reflect.getOwnMetadataKeys(original!)).toEqual(['before']);
    expect(Reflect.getOwnMetadataKeys(Service.prototype.run)).toEqual(expect.arrayContaining(['before', 'after']));
  });
});
