import { redisTarget, type RedisTarget } from '../support/redis-target';
import { describeLedgerAcrossProcesses } from './redis-cost-ledger-suite';

describe('cost ledger across processes', () => {
  let target: RedisTarget;
  beforeAll(async () => {
    target = await redisTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  describeLedgerAcrossProcesses('on one Redis', () => target);
});
