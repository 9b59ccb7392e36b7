import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// Only a real process shows whether Node stays up: a pending promise alone does not keep it running.
describe("rate limiting in 'wait' mode", () => {
  it('keeps the process alive while calls wait their turn, and lets it exit afterwards', () => {
    const script = `
      const { rateLimited } = require('./lib');
      const ping = rateLimited(async (i) => i, { limit: 10, interval: '1s', mode: 'wait', maxWait: '5s' });
      Promise.all([ping(1), ping(2), ping(3)]).then((r) => console.log('settled ' + r.join(',')));
    `;
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('settled 1,2,3');
  });
});
