import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, newTransaction, requireEnv, startApp, uniqueId, type TestApp } from '../helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const redisPid = () => Number(readFileSync(join(ROOT, '.services', 'redis', 'redis.pid'), 'utf8').trim());
const startRedis = () => {
  const result = spawnSync('bash', [join(ROOT, 'scripts', 'testbed', 'up.sh'), 'redis'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr.slice(-2000));
};

/**
 * A loop of writes and reads in which every read must reflect every write acknowledged before it
 * (read-your-writes through the cache) and no request may fail, while `fault` happens to Redis.
 */
async function runLoop(t: TestApp, iterations: number, faults: Map<number, () => unknown>) {
  const users = Array.from({ length: 3 }, () => uniqueId('loop'));
  const written = new Map(users.map((u) => [u, 0]));
  let requests = 0;
  for (let i = 0; i < iterations; i++) {
    await faults.get(i)?.();
    const user = users[i % users.length] ?? '';
    if (i % 2 === 0) {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(user, { transaction_amount: `${1 + i}.00` }),
      });
      requests += 1;
      assert.equal(res.statusCode, 201, `write ${i}: ${res.body}`);
      written.set(user, (written.get(user) ?? 0) + 1);
    }
    const [history, analytics] = await Promise.all([
      t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions?limit=200` }),
      t.inject({ method: 'GET', url: `/api/v1/users/${user}/analytics` }),
    ]);
    requests += 2;
    const expected = written.get(user) ?? 0;
    if (expected === 0) continue;
    assert.equal(history.statusCode, 200, `history ${i}: ${history.body}`);
    assert.equal(analytics.statusCode, 200, `analytics ${i}: ${analytics.body}`);
    assert.equal(history.json<{ data: unknown[] }>().data.length, expected, `history ${i} is not stale`);
    assert.equal(
      analytics.json<{ transaction_count: number }>().transaction_count,
      expected,
      `analytics ${i}`,
    );
  }
  return requests;
}

const cacheState = async (t: TestApp) => {
  const res = await t.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(res.statusCode, 200, 'the service stays ready without its cache');
  return res.json<{ checks: { cache: { status: string } } }>().checks.cache.status;
};

describe('Redis failures under a loop of reads and writes', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('mongodb', { REDIS_URL: requireEnv('REDIS_URL'), ANALYTICS_WAIT_MS: '0' });
  });
  after(async () => {
    startRedis(); // whatever happened, leave the test bed running
    await t.close();
  });

  it('SIGKILL: no failed request, degraded readiness, and no stale read once Redis is back', async () => {
    let degraded = '';
    const requests = await runLoop(
      t,
      120,
      new Map<number, () => unknown>([
        [30, () => process.kill(redisPid(), 'SIGKILL')],
        [
          70,
          async () => {
            degraded = await cacheState(t);
            startRedis();
          },
        ],
      ]),
    );
    assert.equal(degraded, 'degraded');
    assert.ok(requests > 250);
    await eventually(async () => ((await cacheState(t)) === 'up' ? true : undefined), 15_000, 100);
    const hitsBefore = t.deps.metrics.get('cache_hits_total');
    await runLoop(t, 30, new Map());
    assert.ok(t.deps.metrics.get('cache_hits_total') > hitsBefore, 'the cache serves again by itself');
  });

  it('SIGSTOP: writes made while Redis hangs leave no stale entry behind when it answers again', async () => {
    const pid = redisPid();
    try {
      await runLoop(
        t,
        90,
        new Map<number, () => unknown>([
          [20, () => process.kill(pid, 'SIGSTOP')],
          [60, () => process.kill(pid, 'SIGCONT')],
        ]),
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually(async () => ((await cacheState(t)) === 'up' ? true : undefined), 15_000, 100);
  });
});
