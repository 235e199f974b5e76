import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topicsFor } from '../../src/events/transaction-events.ts';
import type { ConsumedMessage } from '../../src/events/event-bus.port.ts';
import { createStatsProjector } from '../../src/analytics/stats-projection.service.ts';
import { createTransactionEventsHandler } from '../../src/worker/transaction-events.handler.ts';
import { eventually, newTransaction, startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';

for (const bus of ['kafka', 'embedded'] as const) {
  describe(`events on the ${bus} bus`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(bus === 'kafka' ? 'mongodb' : 'embedded', {}, { worker: true, bus });
    });
    after(async () => {
      await t.close();
    });
    const topics = () => topicsFor(t.deps.config.events.topicPrefix);
    const settled = (user: string) =>
      eventually(async () => ((await t.deps.storage.stats.hasPending(user)) ? undefined : true), 30_000);

    it('the audit trail lists every version with its author, deletion included; service tokens only', async () => {
      const user = uniqueId('audit');
      const own = await tokenFor({ sub: user, scope: 'transactions:read transactions:write analytics:read' });
      const id = (
        await t.inject({
          method: 'POST',
          url: '/api/v1/transactions',
          payload: newTransaction(user),
          headers: { authorization: `Bearer ${own}` },
        })
      ).json().id as string;
      await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        payload: { transaction_amount: '5.00' },
      });
      await t.inject({ method: 'DELETE', url: `/api/v1/transactions/${id}` });
      const res = await t.inject({ method: 'GET', url: `/api/v1/transactions/${id}/versions` });
      assert.equal(res.statusCode, 200, res.body);
      const versions = res.json().versions as {
        version: number;
        action: string;
        written_by: string;
        transaction_amount: string;
        full_name: string;
      }[];
      assert.deepEqual(
        versions.map((v) => [v.version, v.action, v.written_by, v.transaction_amount]),
        [
          [1, 'created', user, '475.66'],
          [2, 'updated', 'test-service', '5.00'],
          [3, 'deleted', 'test-service', '5.00'],
        ],
      );
      assert.equal(versions[0]?.full_name, 'Ama Mensah');
      const forbidden = await t.inject({
        method: 'GET',
        url: `/api/v1/transactions/${id}/versions`,
        headers: { authorization: `Bearer ${own}` },
      });
      assert.equal(forbidden.statusCode, 403);
      assert.equal(
        (await t.inject({ method: 'GET', url: '/api/v1/transactions/NOPE/versions' })).statusCode,
        404,
      );
    });

    it('reconciliation repairs drifted statistics, counts the repair, and analytics are right again', async () => {
      const user = uniqueId('drift');
      for (const amount of ['10.00', '5.50']) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/transactions',
          payload: newTransaction(user, { transaction_amount: amount }),
        });
        assert.equal(res.statusCode, 201);
      }
      await settled(user);
      const wrong = {
        count: 99,
        currencies: { GHS: { creditCount: 99, creditTotal: 1n, debitCount: 0, debitTotal: 0n } },
      };
      await t.deps.storage.stats.saveDays(
        user,
        new Map([
          ['2024-10-05', wrong],
          ['2031-01-01', wrong],
        ]),
        new Date(),
      );
      assert.equal(
        (await t.inject({ method: 'GET', url: `/api/v1/users/${user}/analytics` })).json().transaction_count,
        198,
      );
      const before = t.deps.metrics.get('reconciliation_repairs_total');
      assert.ok(t.worker);
      assert.ok((await t.worker.reconcile()) >= 2);
      assert.ok(t.deps.metrics.get('reconciliation_repairs_total') >= before + 2);
      const fixed = (await t.inject({ method: 'GET', url: `/api/v1/users/${user}/analytics` })).json();
      assert.deepEqual([fixed.transaction_count, fixed.total_credit], [2, '15.50']);
    });

    it('a malformed message lands in the DLQ with its error; later events are still processed', async () => {
      const user = uniqueId('dlq');
      await t.deps.bus.publish([
        { topic: topics().transactions, key: user, value: '{"type":"transaction.created","oops":true}' },
      ]);
      const received: ConsumedMessage[] = [];
      const sub = await t.deps.bus.subscribe({
        groupId: uniqueId('dlq-reader'),
        topics: [topics().transactionsDlq],
        maxBatch: 100,
        handle: (batch) => {
          received.push(...batch);
          return Promise.resolve();
        },
      });
      try {
        const dead = await eventually(
          async () => Promise.resolve(received.find((m) => m.key === user)),
          30_000,
        );
        assert.match(dead.headers?.['dlq-error'] ?? '', /schema/);
        assert.equal(dead.value, '{"type":"transaction.created","oops":true}');
      } finally {
        await sub.close();
      }
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(user),
      });
      assert.equal(created.statusCode, 201);
      await settled(user);
      assert.ok(t.deps.metrics.get('events_dead_lettered_total') >= 1);
    });

    it('the same events delivered again, and the whole topic replayed from offset 0, change no statistics', async () => {
      const users = [uniqueId('dup'), uniqueId('dup')];
      for (const [i, user] of users.entries()) {
        for (let n = 0; n < 5; n++) {
          const res = await t.inject({
            method: 'POST',
            url: '/api/v1/transactions',
            payload: newTransaction(user, {
              transaction_amount: `${i + n + 1}.00`,
              transaction_date: `2024-10-0${n + 1}T10:00:00Z`,
            }),
          });
          assert.equal(res.statusCode, 201);
        }
        await settled(user);
      }
      const snapshot = async () =>
        Promise.all(users.map(async (u) => [...((await t.deps.storage.stats.read(u))?.days ?? [])]));
      const before = await snapshot();
      // replay: a second projector in a fresh group reads transactions.v1 from the beginning
      let replayed = 0;
      const handle = createTransactionEventsHandler({
        bus: t.deps.bus,
        dlqTopic: topics().transactionsDlq,
        logger: t.deps.logger,
        metrics: t.deps.metrics,
        react: createStatsProjector(t.deps.storage.stats, t.deps.clock, (user) =>
          t.deps.cache.invalidate(user),
        ),
      });
      const sub = await t.deps.bus.subscribe({
        groupId: uniqueId('replay'),
        topics: [topics().transactions],
        maxBatch: 50,
        handle: async (batch) => {
          await handle(batch);
          await handle(batch); // and every message a second time
          replayed += batch.filter((m) => users.includes(m.key)).length;
        },
      });
      try {
        // the topic holds earlier tests' events too: wait for these users' ten
        await eventually(async () => Promise.resolve(replayed >= 10 ? true : undefined), 30_000);
      } finally {
        await sub.close();
      }
      assert.deepEqual(await snapshot(), before);
    });
  });
}
