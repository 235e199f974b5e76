import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { topicsFor } from '../../src/events/transaction-events.ts';
import type { ConsumedMessage } from '../../src/events/event-bus.port.ts';
import { eventually, newTransaction, startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';

/** Small thresholds so each rule is crossed by a handful of transactions. */
const RULES = {
  version: '2026-11-30.9',
  large_transaction: { severity: 'medium', thresholds: { GHS: '100.00' } },
  velocity: { severity: 'high', window_minutes: 30, max_transactions: 3, max_debit: { GHS: '1000.00' } },
  sustained_outflow: { severity: 'medium', window_days: 30, margin: { GHS: '500.00' } },
};

interface AlertView {
  id: string;
  rule: string;
  rule_key: string;
  transaction_id: string;
  details: { value: string; threshold: string };
}

for (const bus of ['kafka', 'embedded'] as const) {
  describe(`alerts and credit scores from the worker (${bus} bus)`, () => {
    let t: TestApp;
    before(async () => {
      const rulesFile = join(tmpdir(), `${uniqueId('rules')}.json`);
      writeFileSync(rulesFile, JSON.stringify(RULES));
      t = await startApp(
        bus === 'kafka' ? 'mongodb' : 'embedded',
        { ALERT_RULES_FILE: rulesFile, ANALYTICS_WAIT_MS: '0' },
        { worker: true, bus },
      );
    });
    after(() => t.close());

    const write = async (user: string, overrides: Record<string, unknown>) => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(user, overrides),
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<{ id: string }>().id;
    };
    const settled = (user: string) =>
      eventually(async () => ((await t.deps.storage.stats.hasPending(user)) ? undefined : true), 30_000);
    const alertsOf = async (user: string): Promise<AlertView[]> => {
      const res = await t.inject({ method: 'GET', url: `/api/v1/users/${user}/alerts?limit=200` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ data: AlertView[] }>().data;
    };
    /** The user's alerts once there is at least one. */
    const alertsOnceRaised = (user: string) =>
      eventually(async () => {
        const found = await alertsOf(user);
        return found.length > 0 ? found : undefined;
      }, 30_000);
    /**
     * Alerts once the worker has projected every write so far and scored the user at least once.
     * The last batch's alerts may still be on their way (they follow its projection): a test that
     * expects a new alert waits for it first.
     */
    const alertsWhenSettled = async (user: string) => {
      await settled(user);
      // statistics first, reactions right after in the same batch: wait for the score it stores
      await eventually(async () => ((await t.deps.storage.scores.get(user)) ? true : undefined), 30_000);
      return alertsOf(user);
    };

    /** The user's events on transactions.v1, from its start, handed to the worker again (a new group). */
    const replayTopic = async (user: string, atLeast: number) => {
      assert.ok(t.worker);
      const worker = t.worker;
      const replayed: ConsumedMessage[] = [];
      const replay = await t.deps.bus.subscribe({
        groupId: uniqueId('replay'),
        topics: [topicsFor(t.deps.config.events.topicPrefix).transactions],
        maxBatch: 100,
        handle: async (batch) => {
          const mine = batch.filter((m) => m.key === user);
          if (mine.length > 0) await worker.handle(mine);
          replayed.push(...mine);
        },
      });
      try {
        await eventually(() => Promise.resolve(replayed.length >= atLeast ? true : undefined), 30_000);
      } finally {
        await replay.close();
      }
    };

    it('a large transaction alerts exactly at its threshold, not one minor unit below', async () => {
      const user = uniqueId('large');
      await write(user, { transaction_amount: '99.99', transaction_date: '2024-10-01T10:00:00Z' });
      const at = await write(user, {
        transaction_amount: '100.00',
        transaction_date: '2024-10-03T10:00:00Z',
      });
      const alerts = await alertsOnceRaised(user);
      await alertsWhenSettled(user);
      assert.deepEqual(
        (await alertsOf(user)).map((a) => [a.rule, a.transaction_id, a.details.value, a.details.threshold]),
        [['large_transaction', at, '100.00', '100.00']],
      );
      assert.equal(alerts.length, 1);
    });

    it('a velocity condition held over ten transactions alerts once, and again after it clears and recurs', async () => {
      const user = uniqueId('velocity');
      // 13 credits one minute apart: the 4th makes 4 > 3 in 30 minutes; it holds to the 13th
      for (let i = 0; i < 13; i++) {
        const minute = String(i).padStart(2, '0');
        await write(user, { transaction_amount: '1.00', transaction_date: `2024-11-01T10:${minute}:00Z` });
      }
      // settled says nothing of the last batch's reactions: wait for the crossing's alert first
      await alertsOnceRaised(user);
      let alerts = await alertsWhenSettled(user);
      assert.deepEqual(
        alerts.map((a) => a.rule_key),
        ['velocity:count'],
      );
      // a day later the window is quiet (the condition clears), then a new burst crosses again
      for (let i = 0; i < 4; i++) {
        await write(user, { transaction_amount: '1.00', transaction_date: `2024-11-02T10:0${i}:00Z` });
      }
      alerts = await alertsWhenSettled(user);
      await eventually(async () => ((await alertsOf(user)).length === 2 ? true : undefined), 30_000);
      alerts = await alertsOf(user);
      assert.deepEqual(
        alerts.map((a) => a.rule_key),
        ['velocity:count', 'velocity:count'],
      );
      assert.notEqual(alerts[0]?.id, alerts[1]?.id);
    });

    it('alerts are published to alerts.v1, and replaying every event raises no duplicate', async () => {
      const user = uniqueId('replay');
      await write(user, { transaction_amount: '250.00' });
      await eventually(async () => ((await alertsOf(user)).length === 1 ? true : undefined), 30_000);
      const seen: ConsumedMessage[] = [];
      const sub = await t.deps.bus.subscribe({
        groupId: uniqueId('alerts-reader'),
        topics: [topicsFor(t.deps.config.events.topicPrefix).alerts],
        maxBatch: 100,
        handle: (batch) => {
          seen.push(...batch.filter((m) => m.key === user));
          return Promise.resolve();
        },
      });
      try {
        const message = await eventually(() => Promise.resolve(seen[0]), 30_000);
        const wire = JSON.parse(message.value) as { type: string; user_id: string; rule: string };
        assert.deepEqual([wire.type, wire.user_id, wire.rule], ['alert.raised', user, 'large_transaction']);
      } finally {
        await sub.close();
      }
      // the same transaction events handled again from the start of the topic
      await replayTopic(user, 1);
      assert.equal((await alertsOf(user)).length, 1, 'no duplicate alert after the replay');
    });

    it('a replay after later writes changed the windows raises no second alert for a crossing', async () => {
      const user = uniqueId('rewind');
      // 4 credits a minute apart cross at the 4th (4 > 3 in 30 minutes); a day later it clears
      for (const minute of ['00', '01', '02', '03']) {
        await write(user, { transaction_amount: '1.00', transaction_date: `2024-11-05T10:${minute}:00Z` });
      }
      await write(user, { transaction_amount: '1.00', transaction_date: '2024-11-06T10:00:00Z' });
      // evaluated before the next write exists (a later batch: consumption is sequential)
      await settled(user);
      // back-dated into the first window: evaluated at its own date it crosses nothing, but a
      // re-evaluation of the first events would now count it and cross at the 3rd
      await write(user, { transaction_amount: '1.00', transaction_date: '2024-11-05T09:59:00Z' });
      await alertsWhenSettled(user);
      const before = await alertsOf(user);
      assert.deepEqual(
        before.map((a) => a.rule_key),
        ['velocity:count'],
      );
      await replayTopic(user, 6);
      assert.deepEqual(
        (await alertsOf(user)).map((a) => a.id),
        before.map((a) => a.id),
        'the replay raised nothing',
      );
    });

    it('the credit score answers read-your-writes, reflects alerts, and is stored when it moves', async () => {
      const user = uniqueId('score');
      const own = await tokenFor({ sub: user, scope: 'analytics:read transactions:write' });
      const read = async () => {
        const res = await t.inject({
          method: 'GET',
          url: `/api/v1/users/${user}/credit-score`,
          headers: { authorization: `Bearer ${own}` },
        });
        return res;
      };
      assert.equal((await read()).statusCode, 404, 'no transactions yet');
      const today = new Date().toISOString();
      await write(user, { transaction_amount: '20.00', transaction_date: today });
      const first = await read();
      assert.equal(first.statusCode, 200, first.body);
      const body = first.json<{
        score: number;
        band: string;
        factors: { name: string; value: number | null; contribution: number }[];
        model_version: string;
      }>();
      assert.equal(body.factors.find((f) => f.name === 'active_days')?.value, 1);
      assert.equal(
        body.factors.reduce((sum, f) => sum + f.contribution, 0),
        body.score - 300,
      );
      // a debit the same day is reflected by the very next read (the cached score was dropped)
      await write(user, { transaction_amount: '5.00', transaction_type: 'debit', transaction_date: today });
      const balance = (await read())
        .json<typeof body>()
        .factors.find((f) => f.name === 'credit_debit_balance');
      assert.equal(balance?.value, 0.8);
      // a large transaction raises an alert: the score takes it into account once raised
      await write(user, { transaction_amount: '500.00', transaction_type: 'debit', transaction_date: today });
      await eventually(async () => {
        const alerts = (await read()).json<typeof body>().factors.find((f) => f.name === 'recent_alerts');
        return alerts?.value === 1 ? true : undefined;
      }, 30_000);
      const stored = await eventually(async () => {
        const s = await t.deps.storage.scores.get(user);
        const now = (await read()).json<typeof body>();
        return s?.score === now.score ? s : undefined;
      }, 30_000);
      assert.equal(stored.modelVersion, body.model_version);
    });
  });
}
