import * as metadata from 'reflect-metadata/no-conflict';
import { Cache, Cached } from '../../lib';

// A library that writes metadata through `reflect-metadata/no-conflict` installs no global API, only the
// shared registry; cachet reads that metadata too, and still installs no global API of its own.

describe('framework metadata written through reflect-metadata/no-conflict', () => {
  it('is carried to the wrapper, and no global API appears', async () => {
    const Tag = (...args: unknown[]) => {
      const method = (args.length === 2 ? args[0] : (args[2] as PropertyDescriptor).value) as object;
      metadata.defineMetadata('path', '/items', method);
      return args.length === 2 ? method : undefined;
    };
    const cache = new Cache();
    class Service {
      @Cached({ cache, ttl: '1m' })
      @(Tag as (...args: any[]) => any)
      async run(): Promise<string> {
        return 'ran';
      }
    }
    expect(metadata.getMetadata('path', Service.prototype.run)).toBe('/items');
    expect(await new Service().run()).toBe('ran');
    expect((Reflect as { getMetadata?: unknown }).getMetadata).toBeUndefined();
  });
});
