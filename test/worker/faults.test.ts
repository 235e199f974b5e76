import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnService, type ServiceProcess } from '../../scripts/stack/processes.ts';
import { reconcileUser } from '../../src/analytics/stats-projection.service.ts';
import {
  eventually,
  newTransaction,
  requireEnv,
  startApp,
  TEST_ENCRYPTION_KEYS,
  TEST_JWT_SECRET,
  uniqueId,
  type TestApp,
} from '../helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const testbed = (script: 'up.sh' | 'down.sh', ...servers: string[]) => {
  const result = spawnSync('bash', [join(ROOT, 'scripts', 'testbed', script), ...servers], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr.slice(-2000));
};

async function writeMany(t: TestApp, users: readonly string[], count: number): Promise<void> {
  for (let i = 0; i < count; i += 5) {
    const batch = Array.from({ length: Math.min(5, count - i) }, (_, j) =>
      t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(users[(i + j) % users.length] ?? 'u', {
          transaction_amount: `${(i + j) % 97}.${String((i + j) % 100).padStart(2, '0')}`.replace(
            /^0\./,
            '1.',
          ),
          transaction_date: `2024-10-${String(1 + ((i + j) % 28)).padStart(2, '0')}T12:00:00Z`,
        }),
      }),
    );
    for (const res of await Promise.all(batch)) assert.equal(res.statusCode, 201, res.body);
  }
}

async function assertExact(t: TestApp, users: readonly string[]): Promise<void> {
  await eventually(
    async () => {
      for (const user of users) if (await t.deps.storage.stats.hasPending(user)) return undefined;
      return true;
    },
    120_000,
    200,
  );
  for (const user of users)
    assert.equal(
      await reconcileUser(t.deps.storage.stats, user, new Date()),
      0,
      `statistics of ${user} drifted`,
    );
}

describe('faults (MongoDB-protocol store, Kafka)', { timeout: 600_000 }, () => {
  it('the broker stopped during a stream of writes: writes stay 2xx; after it returns every event is published and statistics are exact', async () => {
    const t = await startApp('mongodb', {}, { worker: true, bus: 'kafka' });
    const users = Array.from({ length: 5 }, () => uniqueId('brk'));
    try {
      await writeMany(t, users, 40);
      testbed('down.sh', 'kafka');
      try {
        await writeMany(t, users, 60);
        assert.ok(
          (await t.deps.storage.outbox.backlog()) > 0,
          'events wait in the outbox while the broker is away',
        );
      } finally {
        testbed('up.sh');
      }
      await eventually(
        async () => ((await t.deps.storage.outbox.backlog()) === 0 ? true : undefined),
        120_000,
        200,
      );
      await assertExact(t, users);
      const analytics = await t.inject({ method: 'GET', url: `/api/v1/users/${users[0] ?? ''}/analytics` });
      assert.equal(analytics.json().transaction_count, 20);
    } finally {
      await t.close();
    }
  });

  describe('a worker killed with SIGKILL mid-batch and restarted', () => {
    let t: TestApp;
    const env = {
      MONGODB_DATABASE: uniqueId('fido_kill').replaceAll('-', '_'),
      KAFKA_TOPIC_PREFIX: `${uniqueId('kill')}.`,
      WORKER_GROUP_ID: uniqueId('kill-workers'),
    };
    before(async () => {
      t = await startApp('mongodb', env);
    });
    after(async () => {
      await t.close();
    });
    const startWorkerProcess = (): ServiceProcess =>
      spawnService('worker', {
        ROLE: 'worker',
        LOG_LEVEL: 'warn',
        MONGODB_URL: requireEnv('MONGODB_URL'),
        KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
        ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        JWT_SECRET: TEST_JWT_SECRET,
        KAFKA_PARTITIONS: '3',
        ...env,
      });

    it('does not double count', async () => {
      const users = Array.from({ length: 40 }, () => uniqueId('kill'));
      await writeMany(t, users, 600);
      const pendingCount = async () =>
        (await t.deps.storage.stats.stalePending(new Date(Date.now() + 3_600_000), 10_000)).length;
      const first = startWorkerProcess();
      await eventually(async () => ((await pendingCount()) < 600 ? true : undefined), 60_000, 20);
      first.kill('SIGKILL');
      await first.exited;
      const left = await pendingCount();
      const second = startWorkerProcess();
      try {
        await assertExact(t, users);
      } finally {
        await second.stop();
      }
      assert.ok(left < 600, `killed after projecting ${600 - left} of 600`);
    });
  });
});
