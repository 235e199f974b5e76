import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { expectedStats } from '../../scripts/stack/load.ts';
import { startService, type ServiceProcess } from '../../scripts/stack/processes.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import { reconcileUser } from '../../src/analytics/stats-projection.service.ts';
import {
  eventually,
  requireEnv,
  TEST_ENCRYPTION_KEYS,
  TEST_JWT_SECRET,
  tokenFor,
  uniqueId,
} from '../helpers.ts';
import { startLateRequest, startWriteLoad } from './write-load.ts';

const LANES = 8;
const SIGTERM_AFTER = 60;

describe('graceful shutdown on SIGTERM (role all: MongoDB protocol, Kafka, Redis)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-graceful-'));
  const env = {
    MONGODB_URL: requireEnv('MONGODB_URL'),
    MONGODB_DATABASE: uniqueId('fido_graceful').replaceAll('-', '_'),
    REDIS_URL: requireEnv('REDIS_URL'),
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    KAFKA_TOPIC_PREFIX: `${uniqueId('graceful')}.`,
    KAFKA_PARTITIONS: '3',
    WORKER_GROUP_ID: uniqueId('graceful-workers'),
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_MAX: '1000000',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    PORT: '0',
    ROLE: 'all',
  };
  const started: ServiceProcess[] = [];
  after(async () => {
    for (const s of started) s.kill('SIGKILL');
    await Promise.all(started.map((s) => s.exited));
    rmSync(dataDir, { recursive: true, force: true });
  });
  const start = async (name: string) => {
    const { service, address } = await startService(name, env);
    started.push(service);
    return { service, url: address ?? '' };
  };

  it(
    'finishes in-flight requests, refuses new ones with 503, flushes the outbox and exits 0; nothing acknowledged is lost',
    { timeout: 120_000 },
    async (t) => {
      const token = await tokenFor({ sub: uniqueId('graceful-client') });
      const users = Array.from({ length: LANES * 2 }, () => uniqueId('grace'));
      const first = await start('all-1');
      const load = startWriteLoad({ url: first.url, token, users, lanes: LANES });
      await Promise.race([
        load.reached(SIGTERM_AFTER),
        first.service.exited.then(() => {
          throw new Error(`the instance died under load\n${first.service.tail()}`);
        }),
      ]);
      // a request whose headers are still arriving when the shutdown begins: it must be refused
      const late = await startLateRequest(first.url, token);
      load.signalled();
      first.service.kill('SIGTERM');
      await first.service.waitForLog((l) => l.msg?.startsWith('draining') === true, 30_000);
      const lateAnswer = await late.finish();
      const [exit] = await Promise.all([first.service.exited, load.done]);
      const { acknowledged, outcomes } = load;

      const stopped = first.service.logs.find((l) => l.msg === 'stopped');
      t.diagnostic(
        `acknowledged ${acknowledged.size}; outcomes after SIGTERM: ${JSON.stringify(
          outcomes.filter((o) => o.afterSignal).map((o) => (o.kind === 'answer' ? o.status : o.kind)),
        )}; shutdown steps: ${JSON.stringify(
          first.service.logs.filter((l) => l.msg === 'shutdown step done').map((l) => [l.step, l.ms]),
        )}`,
      );
      assert.deepEqual(exit, { code: 0, signal: null }, first.service.tail());
      assert.equal(stopped?.ok, true, 'every shutdown step succeeded');
      assert.ok(!first.service.logs.some((l) => l.msg === 'shutdown timed out'));

      assert.match(lateAnswer, /^HTTP\/1\.1 503 /);
      assert.match(lateAnswer, /\r\ncontent-type: application\/problem\+json/i);
      assert.match(lateAnswer, /\r\nretry-after: 1\r\n/i);
      assert.match(lateAnswer, /"code":"shutting_down"/);
      assert.match(lateAnswer, /\r\nx-request-id: \S+\r\n/i, 'the refusal carries a request id');

      // in-flight requests were finished: answered 201 after the signal, not cut off
      const after = outcomes.filter((o) => o.afterSignal);
      assert.ok(
        after.some((o) => o.kind === 'answer' && o.status === 201),
        'requests in flight at SIGTERM were answered',
      );
      // refused requests were refused cleanly: 503 problem+json before any work, or no connection
      for (const o of outcomes) {
        if (o.kind === 'no-answer') {
          assert.ok(o.afterSignal, 'no connection failed before the shutdown');
          continue;
        }
        if (o.status === 201) continue;
        assert.equal(o.status, 503, JSON.stringify(o.body));
        assert.ok(o.afterSignal);
        assert.equal(o.contentType, 'application/problem+json; charset=utf-8');
        assert.equal(o.body.code, 'shutting_down');
      }

      // right after the exit: every acknowledged write is stored and its event left the outbox
      const storage = await openMongoStorage({ url: env.MONGODB_URL, database: env.MONGODB_DATABASE });
      try {
        assert.equal(await storage.outbox.backlog(), 0, 'the outbox was flushed at stop');
        for (const [id, known] of acknowledged) {
          const stored = await storage.transactions.get(id);
          assert.equal(stored?.userId, known.userId, `acknowledged ${id} is stored`);
        }

        // a new instance processes every event: no pending marker left, statistics exact
        const second = await start('all-2');
        await eventually(
          async () => {
            for (const user of users) if (await storage.stats.hasPending(user)) return undefined;
            return true;
          },
          60_000,
          100,
        );
        for (const user of users) {
          assert.equal(await reconcileUser(storage.stats, user, new Date()), 0, `statistics of ${user}`);
          const res = await fetch(`${second.url}/api/v1/users/${user}/analytics`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const served = (await res.json()) as Record<string, unknown>;
          assert.deepEqual(
            {
              transaction_count: served.transaction_count,
              total_credit: served.total_credit,
              total_debit: served.total_debit,
            },
            expectedStats(acknowledged, user),
            user,
          );
        }
        assert.deepEqual(await second.service.stop(), { code: 0, signal: null }, second.service.tail());
      } finally {
        await storage.close();
      }
    },
  );
});
