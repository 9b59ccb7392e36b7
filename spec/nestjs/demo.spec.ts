import { createInterface } from 'node:readline';
import { startWorker } from '../support/child-processes';

// `npm run demo:nestjs` (demo/nestjs/main.ts) as a child process, with a memory cache: it starts a NestJS
// app, asks itself, prints what was cached, and exits by itself with code 0.

describe('the NestJS demo', () => {
  it('serves cached responses, makes two provider calls for five questions, and exits 0 by itself', async () => {
    const demo = startWorker('demo/nestjs/main.ts', { REDIS_URL: '' });
    // The demo prints no `{ "result": ... }` line: only its exit code and its lines are checked.
    demo.ready.catch(() => undefined);
    const lines: string[] = [];
    createInterface({ input: demo.child.stdout }).on('line', (line) => lines.push(line));
    await Promise.all([
      demo.reached('cached default:http.FaqController.ask: 1 hits, 3 fills'),
      demo.reached('cached faq:FaqService.complete: 2 hits, 2 fills'),
      demo.reached('provider calls: 2 for 5 questions'),
    ]);
    expect(await demo.exited).toBe(0);
    const caches = lines.filter((line) => /^(GET|POST) /.test(line)).map((line) => /X-Cache: (\S+)/.exec(line)?.[1]);
    expect(caches).toEqual(['MISS', 'HIT', '-', 'MISS', '-', 'MISS']);
  });
});
