import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert, RuleState } from '../../src/alerts/alert-evaluation.ts';
import type { Storage } from '../../src/storage.port.ts';
import { useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** The AlertStore and CreditScoreStore contracts: every adapter runs this same suite. */

const T0 = new Date('2024-10-05T09:30:15.678Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

export function anAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: uniqueId('al'),
    userId: uniqueId('u'),
    rule: 'velocity',
    ruleKey: 'velocity:debit:GHS',
    severity: 'medium',
    raisedAt: T0,
    transactionId: uniqueId('tx'),
    details: {
      metric: 'debit_total',
      value: '5000.01',
      threshold: '5000.00',
      comparison: '>',
      currency: 'GHS',
      window: 'PT30M',
      window_end: T0.toISOString(),
    },
    rulesVersion: '2024-10-01',
    ...overrides,
  };
}

/** The store's order: raisedAt descending, ties by id descending (code-unit order, ASCII ids). */
const newestFirst = (alerts: readonly Alert[]): Alert[] =>
  [...alerts].sort(
    (a, b) => b.raisedAt.getTime() - a.raisedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );

export function alertStoreContract(name: string, open: () => Promise<Storage>): void {
  void describe(`AlertStore contract: ${name}`, () => {
    const store = useStorage(open);
    const alerts = () => store().alerts;

    void it('returns an inserted alert with every field as it was given', async () => {
      const alert = anAlert({
        details: { ...anAlert().details, currency: null, window: null, window_end: null },
      });
      await alerts().insert([alert]);
      await alerts().insert([]); // an empty batch is a no-op, not an error
      assert.deepEqual(await alerts().listByUser(alert.userId, undefined, 10), [alert]);
    });

    void it('keeps the first alert under an id and stores the new ones of a batch beside it', async () => {
      const first = anAlert();
      await alerts().insert([first]);
      const redelivered: Alert = { ...first, severity: 'high', raisedAt: at(60_000), rulesVersion: 'v2' };
      const fresh = anAlert({ userId: first.userId, raisedAt: at(-1) });
      await alerts().insert([redelivered, fresh]);
      assert.deepEqual(await alerts().listByUser(first.userId, undefined, 10), [first, fresh]);
      assert.equal(await alerts().countSince(first.userId, at(-1000)), 2);
    });

    void it('lists newest first, ties by id descending, and pages by keyset exactly once each', async () => {
      const userId = uniqueId('u');
      // Three alerts per instant, so most page boundaries fall inside a tie.
      const all = Array.from({ length: 25 }, (_, i) =>
        anAlert({
          userId,
          id: `al-${String((i * 7) % 25).padStart(2, '0')}-${uniqueId('x')}`,
          raisedAt: at(Math.floor(i / 3) * 1000),
        }),
      );
      await alerts().insert(all.slice(12));
      await alerts().insert(all.slice(0, 12));
      const pages: Alert[][] = [];
      let after: { raisedAt: Date; id: string } | undefined;
      for (;;) {
        const page = await alerts().listByUser(userId, after, 10);
        pages.push(page);
        const last = page.at(-1);
        if (last === undefined) break;
        after = { raisedAt: last.raisedAt, id: last.id };
        assert.ok(pages.length <= 4, 'paging does not end');
      }
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5, 0],
      );
      assert.deepEqual(pages.flat(), newestFirst(all));
    });

    void it('orders alerts raised at the same instant by id, descending', async () => {
      const userId = uniqueId('u');
      const [a, b, c] = ['al-a', 'al-b', 'al-c'].map((p) => anAlert({ userId, id: `${p}-${uniqueId('x')}` }));
      assert.ok(a && b && c);
      await alerts().insert([b, c, a]);
      assert.deepEqual(await alerts().listByUser(userId, undefined, 10), [c, b, a]);
      assert.deepEqual(await alerts().listByUser(userId, { raisedAt: T0, id: c.id }, 10), [b, a]);
    });

    void it("never shows or counts another user's alerts", async () => {
      const mine = anAlert();
      const theirs = anAlert({ raisedAt: at(1) });
      await alerts().insert([mine, theirs]);
      assert.deepEqual(await alerts().listByUser(mine.userId, undefined, 10), [mine]);
      assert.equal(await alerts().countSince(mine.userId, T0), 1);
      assert.deepEqual(await alerts().listByUser(uniqueId('u'), undefined, 10), []);
      assert.equal(await alerts().countSince(uniqueId('u'), T0), 0);
    });

    void it('counts an alert raised exactly at `since` and not one a millisecond before', async () => {
      const userId = uniqueId('u');
      await alerts().insert([-1, 0, 0, 1, 86_400_000].map((ms) => anAlert({ userId, raisedAt: at(ms) })));
      assert.equal(await alerts().countSince(userId, T0), 4);
      assert.equal(await alerts().countSince(userId, at(-1)), 5);
      assert.equal(await alerts().countSince(userId, at(1)), 2);
      assert.equal(await alerts().countSince(userId, at(86_400_001)), 0);
    });

    void it('has no rule states and no position for a user never evaluated', async () => {
      assert.deepEqual(await alerts().ruleStates(uniqueId('u')), {
        states: new Map(),
        evaluatedThrough: null,
      });
    });

    void it('sets the given rule states and positions of several users, leaves the others, and round-trips every field', async () => {
      const [userId, other] = [uniqueId('u'), uniqueId('u')];
      const active: RuleState = { active: true, crossings: 3, since: T0.toISOString() };
      const inactive: RuleState = { active: false, crossings: 0, since: null };
      // offsets are int64: one beyond Number's exact range must come back exactly
      const first = { partition: 3, offset: 9_007_199_254_740_993n, occurredAt: T0 };
      const later = { partition: 3, offset: 9_007_199_254_740_999n, occurredAt: at(60_000) };
      await alerts().saveRuleStates(
        new Map([
          [
            userId,
            {
              states: new Map([
                ['velocity:count', active],
                ['sustained_outflow:GHS', inactive],
              ]),
              evaluatedThrough: first,
            },
          ],
          [other, { states: new Map([['velocity:count', active]]), evaluatedThrough: null }],
        ]),
      );
      await alerts().saveRuleStates(new Map()); // nothing changed: a no-op
      const cleared: RuleState = { active: false, crossings: 3, since: null };
      await alerts().saveRuleStates(
        new Map([[userId, { states: new Map([['velocity:count', cleared]]), evaluatedThrough: later }]]),
      );
      // a position alone (no state changed) is saved too; absent states stay as they were
      await alerts().saveRuleStates(new Map([[other, { states: new Map(), evaluatedThrough: first }]]));
      assert.deepEqual(await alerts().ruleStates(userId), {
        states: new Map([
          ['velocity:count', cleared],
          ['sustained_outflow:GHS', inactive],
        ]),
        evaluatedThrough: later,
      });
      assert.deepEqual(await alerts().ruleStates(other), {
        states: new Map([['velocity:count', active]]),
        evaluatedThrough: first,
      });
    });
  });

  void describe(`CreditScoreStore contract: ${name}`, () => {
    const store = useStorage(open);

    void it('has no score for a user never scored, then keeps the last one put', async () => {
      const userId = uniqueId('u');
      const scores = store().scores;
      assert.equal(await scores.get(userId), null);
      const first = { score: 712, band: 'good', modelVersion: 'cs-1', computedAt: T0 };
      await scores.put(new Map([[userId, first]]));
      assert.deepEqual(await scores.get(userId), first);
      const second = { score: 580, band: 'fair', modelVersion: 'cs-2', computedAt: at(1) };
      await scores.put(new Map([[userId, second]]));
      await scores.put(new Map([[uniqueId('u'), first]]));
      assert.deepEqual(await scores.get(userId), second);
    });

    void it('puts the scores of several users in one call, each replacing only its own', async () => {
      const [a, b, c] = [uniqueId('u'), uniqueId('u'), uniqueId('u')];
      const scores = store().scores;
      const old = { score: 400, band: 'poor', modelVersion: 'cs-1', computedAt: T0 };
      await scores.put(new Map([[c, old]]));
      const forA = { score: 801, band: 'excellent', modelVersion: 'cs-2', computedAt: at(2) };
      const forB = { score: 655, band: 'fair', modelVersion: 'cs-2', computedAt: at(2) };
      await scores.put(
        new Map([
          [a, forA],
          [b, forB],
        ]),
      );
      assert.deepEqual(await scores.get(a), forA);
      assert.deepEqual(await scores.get(b), forB);
      assert.deepEqual(await scores.get(c), old);
      await scores.put(new Map()); // nothing to store: a no-op
      assert.deepEqual(await scores.get(a), forA);
    });
  });
}
