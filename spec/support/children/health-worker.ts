// One instance of a service whose ConcurrentRouter shares its endpoint health through a RedisRouterHealth.
// Env: REDIS_URL, PREFIX, BASE_URL, THRESHOLD (failures in a row), WINDOW_FAILURES (failures within a
// minute; 0 = off), COOLDOWN. Prints `{ "instance": id }` then `ready`, and then obeys lines on stdin:
//   route <n>     n routes at once; one `{ "routed": { ok, probe, skipped } }` line per route as it ends
//   health        prints `{ "health": router.health()[0] }`
//   wait-cooldown waits until this instance's view of the cooldown has ended, prints `{ "cooled": true }`
// and prints `{ "cooldown": forMs }`, `{ "recovered": true }`, `{ "healthError": message }` on the
// router's events. `exit` closes everything.
import { createInterface } from 'node:readline';
import { ChatClient } from '../../../lib/llm';
import { ConcurrentRouter, isRouterError } from '../../../lib/router';
import { RedisRouterHealth } from '../../../lib/redis';

const print = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

async function main(): Promise<void> {
  const health = new RedisRouterHealth({ url: process.env.REDIS_URL!, prefix: process.env.PREFIX! });
  const client = new ChatClient({ baseURL: process.env.BASE_URL!, apiKey: 'k', connections: 8 });
  const windowFailures = Number(process.env.WINDOW_FAILURES ?? 0);
  const router = new ConcurrentRouter({
    endpoints: [{ name: 'provider', client, maxConcurrent: 8, timeout: '10s' }],
    health,
    failureThreshold: Number(process.env.THRESHOLD ?? 3),
    ...(windowFailures > 0 ? { failures: { threshold: windowFailures, window: '1m' } } : {}),
    cooldown: process.env.COOLDOWN ?? '30s',
  });
  router.on('cooldown', ({ forMs }) => print({ cooldown: forMs }));
  router.on('recovered', () => print({ recovered: true }));
  router.on('healthError', ({ error }) => print({ healthError: String((error as Error)?.message ?? error) }));
  // Ready once the router hears the other instances' changes.
  while (!health.live) await new Promise((resolve) => setTimeout(resolve, 5));
  print({ instance: health.instance });
  process.stdout.write('ready\n');

  let n = 0;
  const route = async (): Promise<void> => {
    try {
      const result = await router.route({ model: 'm', messages: [{ role: 'user', content: `q${n++}` }] });
      print({ routed: { ok: true, probe: result.attempts[0]?.probe ?? false, skipped: [] } });
    } catch (error) {
      const skipped = isRouterError(error) ? error.skipped.map((s) => s.reason) : [String(error)];
      const probe = isRouterError(error) && error.attempts.some((a) => a.probe);
      print({ routed: { ok: false, probe, skipped } });
    }
  };

  for await (const line of createInterface({ input: process.stdin })) {
    const [command, argument] = line.trim().split(/\s+/);
    if (command === 'route') for (let i = 0; i < Number(argument); i++) void route();
    else if (command === 'health') print({ health: router.health()[0] });
    else if (command === 'wait-cooldown') {
      const left = (router.health()[0]?.cooldownUntil ?? 0) - Date.now();
      setTimeout(() => print({ cooled: true }), Math.max(0, left) + 5);
    } else if (command === 'exit') break;
  }
  await router.close();
  await health.close();
  await client.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
