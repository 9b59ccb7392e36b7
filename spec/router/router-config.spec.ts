import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stringify as stringifyYaml } from 'yaml';
import { join } from 'node:path';
import { MemoryRateLimiter } from '../../lib';
import { ChatClient, type ChatRequest } from '../../lib/llm';
import { registerResource } from '../../lib/resources/named-resources';
import {
  ConcurrentRouter,
  MemoryRouterHealth,
  routerFromConfig,
  routerFromFile,
  type RouteResult,
} from '../../lib/router';
import { eventually } from '../support/async';
import { LocalProvider } from '../../lib/testing';

// Two LocalProviders over real HTTP; one router made from data, one made in code with the same settings.
const request = (content: string): ChatRequest => ({ model: 'any', messages: [{ role: 'user', content }] });

describe('routerFromConfig', () => {
  let primary: LocalProvider;
  let backup: LocalProvider;
  let urls: { primary: string; backup: string };
  const closing: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    primary = new LocalProvider({ apiKey: 'secret' });
    backup = new LocalProvider();
    urls = { primary: await primary.start(), backup: await backup.start() };
  });
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
    await primary.close();
    await backup.close();
  });

  const config = () => ({
    strategy: 'priority',
    failureThreshold: 2,
    cooldown: '30s',
    endpoints: [
      { name: 'primary', baseURL: urls.primary, apiKeyEnv: 'PRIMARY_KEY', model: 'big', maxConcurrent: 4 },
      { name: 'backup', client: 'backup', model: 'small', maxConcurrent: 2, priority: 1 },
    ],
  });

  /** What a sequence of routes did: which endpoint and model answered, and how many attempts each took. */
  const trace = async (router: ConcurrentRouter, count: number): Promise<string[]> => {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const result: RouteResult = await router.route(request(`q${i}`));
      seen.push(`${result.endpoint}/${result.model}/${result.attempts.length}`);
    }
    return seen;
  };

  it('routes as the same router made in code, including failing over and setting an endpoint aside', async () => {
    const backupClient = new ChatClient({ baseURL: urls.backup, connections: 2 });
    closing.push(() => backupClient.close());
    const fromData = routerFromConfig(config(), {
      clients: { backup: backupClient },
      env: { PRIMARY_KEY: 'secret' },
    });
    closing.push(() => fromData.close());
    const primaryClient = new ChatClient({ baseURL: urls.primary, apiKey: 'secret', connections: 4 });
    closing.push(() => primaryClient.close());
    const inCode = new ConcurrentRouter({
      strategy: 'priority',
      failureThreshold: 2,
      cooldown: '30s',
      endpoints: [
        { name: 'primary', client: primaryClient, model: 'big', maxConcurrent: 4 },
        { name: 'backup', client: backupClient, model: 'small', maxConcurrent: 2, priority: 1 },
      ],
    });

    const run = async (router: ConcurrentRouter): Promise<string[]> => {
      const healthy = await trace(router, 2);
      primary.failNext(2, 503);
      const failing = await trace(router, 3);
      return [...healthy, ...failing, ...router.health().map((h) => `${h.name}:${h.state}`)];
    };
    const fromDataTrace = await run(fromData.router);
    const inCodeTrace = await run(inCode);
    expect(fromDataTrace).toEqual(inCodeTrace);
    // And what that is: the primary (with its key from the environment), then the backup while it fails.
    expect(fromDataTrace).toEqual([
      'primary/big/1',
      'primary/big/1',
      'backup/small/2',
      'backup/small/2',
      'backup/small/1',
      'primary:cooling',
      'backup:healthy',
    ]);
  });

  it('uses the rate limiter that the data names, resolved from the registered resources', async () => {
    const unregister = registerResource('rateLimiter', 'primary-quota', new MemoryRateLimiter());
    closing.push(async () => unregister());
    const data = config();
    const withQuota = {
      ...data,
      endpoints: [
        { ...data.endpoints[0], rateLimit: { limit: 2, interval: '1m', burst: 2, limiter: 'primary-quota' } },
        { name: 'backup', baseURL: urls.backup, model: 'small', maxConcurrent: 2, priority: 1 },
      ],
    };
    const { router, close } = routerFromConfig(withQuota, { env: { PRIMARY_KEY: 'secret' } });
    closing.push(close);
    expect(await trace(router, 3)).toEqual(['primary/big/1', 'primary/big/1', 'backup/small/1']);
  });

  it('shares health through the store the data names, and counts failures within its window', async () => {
    const health = new MemoryRouterHealth();
    const unregister = registerResource('routerHealth', 'config-health', health);
    closing.push(async () => unregister());
    const data = {
      ...config(),
      failureThreshold: 10,
      failures: { threshold: 2, window: '1m' },
      health: 'config-health',
      endpoints: [{ name: 'backup', baseURL: urls.backup, model: 'small', maxConcurrent: 2 }],
    };
    const [first, second] = [routerFromConfig(data), routerFromConfig(data)];
    closing.push(
      first.close,
      second.close,
      () => first.router.close(),
      () => second.router.close(),
    );
    backup.failNext(1, 500);
    await expect(first.router.route(request('a'))).rejects.toThrow();
    expect((await second.router.route(request('b'))).endpoint).toBe('backup');
    backup.failNext(1, 500);
    await expect(second.router.route(request('c'))).rejects.toThrow();
    await eventually(() => first.router.health()[0]?.state === 'cooling');
    expect(() => routerFromConfig({ ...data, health: 42 })).toThrow(/health.*registered router health store/);
  });

  it('reads a JSON file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cachet-router-'));
    const file = join(dir, 'routes.json');
    const data = config();
    writeFileSync(
      file,
      JSON.stringify({ ...data, endpoints: [{ ...data.endpoints[1], client: undefined, baseURL: urls.backup }] }),
    );
    const { router, close } = routerFromFile(file);
    closing.push(close);
    expect(await trace(router, 1)).toEqual(['backup/small/1']);
    writeFileSync(file, '{ "endpoints": [');
    expect(() => routerFromFile(file)).toThrow(new RegExp(`${file}.*JSON`));
  });

  it('reads a YAML file as the same configuration, and names the line of a YAML mistake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cachet-router-'));
    const file = join(dir, 'routes.yaml');
    const data = config();
    writeFileSync(
      file,
      stringifyYaml({ ...data, endpoints: [{ ...data.endpoints[1], client: undefined, baseURL: urls.backup }] }),
    );
    const { router, close } = routerFromFile(file);
    closing.push(close);
    expect(await trace(router, 1)).toEqual(['backup/small/1']);
    writeFileSync(file, 'endpoints:\n  - name: a\n    name: b\n');
    expect(() => routerFromFile(file)).toThrow(new RegExp(`${file} could not be read as YAML: .*line 3`));
  });

  it('says to install yaml when a YAML file is given without it', () => {
    jest.isolateModules(() => {
      jest.doMock('yaml', () => {
        throw new Error("Cannot find module 'yaml'");
      });
      const { routerFromFile: fromFile } = jest.requireActual<{ routerFromFile: typeof routerFromFile }>(
        '../../lib/router',
      );
      expect(() => fromFile('routes.yml')).toThrow(/routes\.yml is YAML, which needs the yaml package: npm i yaml/);
    });
    jest.dontMock('yaml');
  });

  it('names the path of a bad field and says what was expected', () => {
    const data = config();
    const options = { clients: {}, env: { PRIMARY_KEY: 'secret' } };
    const endpoint = (patch: object) => ({ ...data, endpoints: [{ ...data.endpoints[0], ...patch }] });
    expect(() => routerFromConfig({ ...data, endpoint: [] }, options)).toThrow(/router config option `endpoint`/);
    expect(() => routerFromConfig({ ...data, endpoints: [] }, options)).toThrow(/endpoints.*non-empty array/);
    expect(() => routerFromConfig(endpoint({ colour: 'red' }), options)).toThrow(/endpoints\[0\] option `colour`/);
    expect(() => routerFromConfig(endpoint({ client: 'backup' }), options)).toThrow(
      /endpoints\[0\]\.client or endpoints\[0\]\.baseURL.*exactly one/,
    );
    expect(() => routerFromConfig(data, options)).toThrow(/endpoints\[1\]\.client.*options\.clients \(none given\)/);
    expect(() => routerFromConfig(endpoint({}), { env: {} })).toThrow(/endpoints\[0\]\.apiKeyEnv.*set environment/);
    expect(() => routerFromConfig(endpoint({ rateLimit: { limit: 1, interval: '1s', limiter: 7 } }), options)).toThrow(
      /endpoints\[0\]\.rateLimit\.limiter/,
    );
    // Values are checked by the router as in code: a bad one names the option.
    expect(() =>
      routerFromConfig({ ...data, endpoints: [{ ...data.endpoints[0], maxConcurrent: 0 }] }, options),
    ).toThrow(/maxConcurrent/);
  });
});
