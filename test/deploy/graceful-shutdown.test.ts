import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { expectedStats, type Known } from '../../scripts/stack/load.ts';
import { startService, type ServiceProcess } from '../../scripts/stack/processes.ts';
import { openMongoStorage } from '../../src/adapters/mongo-storage.ts';
import { reconcileUser } from '../../src/worker/stats-projector.ts';
import {
  eventually,
  newTransaction,
  requireEnv,
  TEST_ENCRYPTION_KEYS,
  TEST_JWT_SECRET,
  tokenFor,
  uniqueId,
} from '../helpers.ts';

const LANES = 8;
const SIGTERM_AFTER = 60;

/** What one request of the load got: an answer, or no answer at all. */
type Outcome =
  | {
      kind: 'answer';
      status: number;
      body: Record<string, unknown>;
      contentType: string;
      afterSigterm: boolean;
    }
  | { kind: 'no-answer'; afterSigterm: boolean };

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
      // a request whose headers are still arriving when the shutdown begins: it must be refused
      const late = Promise.withResolvers<LateRequest>();
      const acknowledged = new Map<string, Known>();
      const outcomes: Outcome[] = [];
      const signal = { triggered: false, sent: false };
      const sigterm = () => {
        signal.sent = true;
        first.service.kill('SIGTERM');
      };

      // each lane writes until its first answer after the SIGTERM, or until it gets no answer
      const lane = async (lane: number) => {
        for (let i = 0; i < 10_000; i++) {
          const userId = users[(lane + i * LANES) % users.length] ?? '';
          const amountMinor = BigInt(100 + ((lane * 7919 + i * 104729) % 99_900));
          const type = i % 3 === 0 ? 'debit' : 'credit';
          const body = newTransaction(userId, {
            transaction_amount: `${amountMinor / 100n}.${String(amountMinor % 100n).padStart(2, '0')}`,
            transaction_type: type,
            transaction_date: `2024-10-${String(1 + (i % 28)).padStart(2, '0')}T12:00:00Z`,
          });
          let res: Response;
          try {
            res = await fetch(`${first.url}/api/v1/transactions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(20_000),
            });
          } catch {
            // the instance is gone (or failed: the assertions below say which)
            outcomes.push({ kind: 'no-answer', afterSigterm: signal.sent });
            return;
          }
          const answer = (await res.json()) as Record<string, unknown>;
          outcomes.push({
            kind: 'answer',
            status: res.status,
            body: answer,
            contentType: res.headers.get('content-type') ?? '',
            afterSigterm: signal.sent,
          });
          if (res.status === 201) {
            acknowledged.set(String(answer.id), { userId, amountMinor, type, deleted: false });
            // a client with nothing more to send leaves its keep-alive connection idle: the
            // instance must close it, not wait for the client (or the keep-alive timeout)
            if (signal.sent) return;
            if (acknowledged.size >= SIGTERM_AFTER && !signal.triggered) {
              signal.triggered = true;
              startLateRequest(first.url, token).then(
                (request) => {
                  sigterm();
                  late.resolve(request);
                },
                (error: unknown) => {
                  sigterm();
                  late.reject(error);
                },
              );
            }
          }
        }
      };
      const refused = late.promise.then(async (request) => {
        await first.service.waitForLog((l) => l.msg?.startsWith('draining') === true, 30_000);
        return request.finish();
      });
      const [exit] = await Promise.all([
        first.service.exited,
        ...Array.from({ length: LANES }, (_, i) => lane(i)),
      ]);

      const stopped = first.service.logs.find((l) => l.msg === 'stopped');
      t.diagnostic(
        `acknowledged ${acknowledged.size}; outcomes after SIGTERM: ${JSON.stringify(
          outcomes.filter((o) => o.afterSigterm).map((o) => (o.kind === 'answer' ? o.status : o.kind)),
        )}; shutdown steps: ${JSON.stringify(
          first.service.logs.filter((l) => l.msg === 'shutdown step done').map((l) => [l.step, l.ms]),
        )}`,
      );
      assert.deepEqual(exit, { code: 0, signal: null }, first.service.tail());
      assert.equal(stopped?.ok, true, 'every shutdown step succeeded');
      assert.ok(!first.service.logs.some((l) => l.msg === 'shutdown timed out'));

      const lateAnswer = await refused;
      assert.match(lateAnswer, /^HTTP\/1\.1 503 /);
      assert.match(lateAnswer, /\r\ncontent-type: application\/problem\+json/i);
      assert.match(lateAnswer, /\r\nretry-after: 1\r\n/i);
      assert.match(lateAnswer, /"code":"shutting_down"/);

      // in-flight requests were finished: answered 201 after the signal, not cut off
      const after = outcomes.filter((o) => o.afterSigterm);
      assert.ok(
        after.some((o) => o.kind === 'answer' && o.status === 201),
        'requests in flight at SIGTERM were answered',
      );
      // refused requests were refused cleanly: 503 problem+json before any work, or no connection
      for (const o of outcomes) {
        if (o.kind === 'no-answer') {
          assert.ok(o.afterSigterm, 'no connection failed before the shutdown');
          continue;
        }
        if (o.status === 201) continue;
        assert.equal(o.status, 503, JSON.stringify(o.body));
        assert.ok(o.afterSigterm);
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

/**
 * A raw connection that sends a request's first header line now and the rest on `finish()`,
 * resolving with the raw answer once the server closes the connection.
 */
interface LateRequest {
  finish(): Promise<string>;
}

async function startLateRequest(url: string, token: string): Promise<LateRequest> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  const closed = once(socket, 'close');
  socket.write('GET /api/v1/users/late/analytics HTTP/1.1\r\n');
  return {
    async finish() {
      socket.write(`Host: ${hostname}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await closed;
      return answer;
    },
  };
}
