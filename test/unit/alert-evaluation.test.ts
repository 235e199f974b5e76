import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from 'typebox/value';
import type { AmountRow } from '../../src/analytics/day-totals.ts';
import { alertToWire } from '../../src/alerts/alert-wire.ts';
import { AlertRaisedSchema } from '../../src/events/alert-events.ts';
import {
  evaluateAlerts,
  outflowFromDays,
  type Alert,
  type AlertContext,
  type CurrencyFlow,
  type RuleState,
} from '../../src/alerts/alert-evaluation.ts';
import { parseAlertRules } from '../../src/alerts/alert-rules.ts';
import type { EventState, TransactionEvent, TransactionType } from '../../src/transactions/transaction.ts';

const rules = parseAlertRules(
  JSON.stringify({
    version: '2026-11-30.1',
    large_transaction: { severity: 'medium', thresholds: { GHS: '5000.00', UGX: '1500000' } },
    velocity: { severity: 'high', window_minutes: 30, max_transactions: 3, max_debit: { GHS: '1000.00' } },
    sustained_outflow: { severity: 'medium', window_days: 30, margin: { GHS: '2000.00' } },
  }),
);

const ANCHOR = new Date('2026-11-30T10:00:00.000Z');
const minutesBefore = (minutes: number) => new Date(ANCHOR.getTime() - minutes * 60_000);
let sequence = 0;

const state = (amountMinor: bigint, type: TransactionType = 'debit', currency = 'GHS'): EventState => ({
  amountMinor,
  type,
  currency,
  transactionDate: ANCHOR,
});

function txEvent(
  after: EventState | null,
  before: EventState | null = null,
  transactionId?: string,
): TransactionEvent {
  sequence += 1;
  return {
    eventId: `event-${sequence}`,
    type:
      after === null
        ? 'transaction.deleted'
        : before === null
          ? 'transaction.created'
          : 'transaction.updated',
    occurredAt: new Date(ANCHOR.getTime() + sequence),
    userId: 'u-42',
    transactionId: transactionId ?? `tx-${sequence}`,
    version: 1,
    before,
    after,
  };
}

const row = (amountMinor: bigint, type: TransactionType, at = ANCHOR, currency = 'GHS'): AmountRow => ({
  amountMinor,
  type,
  currency,
  transactionDate: at,
});

const context = (
  velocityRows: AmountRow[] = [],
  ghs: CurrencyFlow = { credit: 0n, debit: 0n },
): AlertContext => ({
  velocityRows,
  outflow: new Map([['GHS', ghs]]),
});

const keysOf = (alerts: Alert[]) => alerts.map((a) => a.ruleKey);
const credits = (n: number) => Array.from({ length: n }, () => row(100n, 'credit'));

describe('alert rules fire exactly at their boundary', () => {
  it('large transaction: at the threshold fires, one minor unit below does not', () => {
    const at = evaluateAlerts(rules, txEvent(state(500_000n), null, 'tx-big'), context(), new Map());
    assert.deepEqual(keysOf(at.alerts), ['large_transaction:tx-big']);
    assert.deepEqual(at.alerts[0]?.details, {
      metric: 'amount',
      comparison: '>=',
      value: '5000.00',
      threshold: '5000.00',
      currency: 'GHS',
      window: null,
      window_end: null,
    });
    assert.equal(at.alerts[0].severity, 'medium');
    assert.deepEqual(evaluateAlerts(rules, txEvent(state(499_999n)), context(), new Map()).alerts, []);
    const ugx = (amount: bigint) =>
      evaluateAlerts(rules, txEvent(state(amount, 'credit', 'UGX')), context(), new Map());
    assert.equal(ugx(1_500_000n).alerts.length, 1);
    assert.equal(ugx(1_499_999n).alerts.length, 0);
    assert.equal(
      evaluateAlerts(rules, txEvent(state(10n ** 14n, 'debit', 'EUR')), context(), new Map()).alerts.length,
      0,
    );
  });

  it('velocity count: more than max_transactions in the window fires, exactly max does not', () => {
    const over = evaluateAlerts(rules, txEvent(state(100n, 'credit')), context(credits(4)), new Map());
    assert.deepEqual(keysOf(over.alerts), ['velocity:count']);
    assert.deepEqual(over.alerts[0]?.details, {
      metric: 'transaction_count',
      comparison: '>',
      value: '4',
      threshold: '3',
      currency: null,
      window: 'PT30M',
      window_end: ANCHOR.toISOString(),
    });
    assert.deepEqual(
      evaluateAlerts(rules, txEvent(state(100n, 'credit')), context(credits(3)), new Map()).alerts,
      [],
    );
  });

  it('velocity window: the start instant is out, one millisecond later is in, later dates are out', () => {
    const rows = [
      ...credits(3),
      row(100n, 'credit', minutesBefore(30)),
      row(100n, 'credit', new Date(ANCHOR.getTime() + 1)),
    ];
    assert.deepEqual(
      evaluateAlerts(rules, txEvent(state(100n, 'credit')), context(rows), new Map()).alerts,
      [],
    );
    const inside = [...credits(3), row(100n, 'credit', new Date(minutesBefore(30).getTime() + 1))];
    assert.equal(
      evaluateAlerts(rules, txEvent(state(100n, 'credit')), context(inside), new Map()).alerts.length,
      1,
    );
  });

  it('velocity debit: one minor unit over max_debit fires, exactly max_debit does not; credits and other currencies do not count', () => {
    const noise = [row(90_000n, 'credit'), row(90_000n, 'debit', ANCHOR, 'USD')];
    // four rows in the window: the count rule is over too, already active, so it stays quiet
    const countActive = new Map([
      ['velocity:count', { active: true, crossings: 1, since: ANCHOR.toISOString() }],
    ]);
    const at = (total: bigint) =>
      evaluateAlerts(
        rules,
        txEvent(state(50_000n)),
        context([row(50_000n, 'debit'), row(total - 50_000n, 'debit'), ...noise]),
        countActive,
      );
    const over = at(100_001n);
    assert.deepEqual(keysOf(over.alerts), ['velocity:debit:GHS']);
    assert.equal(over.alerts[0]?.details.value, '1000.01');
    assert.equal(over.alerts[0].details.comparison, '>');
    assert.deepEqual(at(100_000n).alerts, []);
  });

  it('sustained outflow: debits exceeding credits by exactly the margin fires, one minor unit less does not', () => {
    const at = (debit: bigint) =>
      evaluateAlerts(rules, txEvent(state(100n)), context([], { credit: 50_000n, debit }), new Map());
    const reached = at(250_000n);
    assert.deepEqual(keysOf(reached.alerts), ['sustained_outflow:GHS']);
    assert.deepEqual(reached.alerts[0]?.details, {
      metric: 'net_outflow',
      comparison: '>=',
      value: '2000.00',
      threshold: '2000.00',
      currency: 'GHS',
      window: 'P30D',
      window_end: ANCHOR.toISOString(),
    });
    assert.deepEqual(at(249_999n).alerts, []);
  });
});

/** Evaluates events one after another as the worker does, saving the changed states in between. */
function run(
  steps: { event: TransactionEvent; context: AlertContext }[],
  states = new Map<string, RuleState>(),
) {
  const alerts: Alert[] = [];
  for (const step of steps) {
    const result = evaluateAlerts(rules, step.event, step.context, states);
    for (const [key, value] of result.states) states.set(key, value);
    alerts.push(...result.alerts);
  }
  return { alerts, states };
}

describe('alerts are edge-triggered', () => {
  it('a condition held over 10 transactions raises one alert; cleared and recurring, a second with another id', () => {
    const held = Array.from({ length: 10 }, (_, i) => ({
      event: txEvent(state(100n, 'credit')),
      context: context(credits(4 + i)),
    }));
    const first = run(held);
    assert.deepEqual(keysOf(first.alerts), ['velocity:count']);
    assert.equal(first.alerts[0]?.transactionId, held[0]?.event.transactionId);
    assert.deepEqual(first.states.get('velocity:count'), {
      active: true,
      crossings: 1,
      since: held[0]?.event.occurredAt.toISOString(),
    });

    const cleared = run(
      [{ event: txEvent(state(100n, 'credit')), context: context(credits(2)) }],
      first.states,
    );
    assert.deepEqual(cleared.alerts, []);
    assert.deepEqual(cleared.states.get('velocity:count'), { active: false, crossings: 1, since: null });

    const again = run(
      [{ event: txEvent(state(100n, 'credit')), context: context(credits(5)) }],
      cleared.states,
    );
    assert.deepEqual(keysOf(again.alerts), ['velocity:count']);
    assert.notEqual(again.alerts[0]?.id, first.alerts[0]?.id);
    assert.equal(again.states.get('velocity:count')?.crossings, 2);
  });

  it('a large transaction alerts once: updates that stay large do not re-fire, one that rises from below does', () => {
    const versions = [
      state(600_000n),
      ...Array.from({ length: 9 }, (_, i) => state(600_000n + BigInt(i + 1))),
    ];
    const updates = versions.map((after, i) => ({
      event: txEvent(after, i === 0 ? null : (versions[i - 1] ?? null), 'tx-held'),
      context: context(),
    }));
    assert.deepEqual(keysOf(run(updates).alerts), ['large_transaction:tx-held']);
    const dropped = txEvent(state(100n), state(600_000n), 'tx-held');
    const risen = txEvent(state(500_000n), state(100n), 'tx-held');
    assert.deepEqual(evaluateAlerts(rules, dropped, context(), new Map()).alerts, []);
    assert.deepEqual(keysOf(evaluateAlerts(rules, risen, context(), new Map()).alerts), [
      'large_transaction:tx-held',
    ]);
  });
});

describe('redelivery and deletion', () => {
  it('the same event from the same prior states gives identical alerts and ids', () => {
    const event = txEvent(state(600_000n));
    const busy = context([row(600_000n, 'debit'), ...credits(3)], { credit: 0n, debit: 600_000n });
    const first = evaluateAlerts(rules, event, busy, new Map());
    const again = evaluateAlerts(rules, event, busy, new Map());
    assert.equal(first.alerts.length, 4);
    assert.deepEqual(again, first);
    assert.ok(first.alerts.every((a) => /^[A-Za-z0-9_-]{22}$/.test(a.id)));
    assert.equal(new Set(first.alerts.map((a) => a.id)).size, 4);
  });

  it('a batch "fire, clear" redelivered onto its saved states raises the first alert again under the same id', () => {
    const fire = { event: txEvent(state(100n, 'credit')), context: context(credits(4)) };
    const clear = { event: txEvent(state(100n, 'credit')), context: context(credits(1)) };
    const delivered = run([fire, clear]);
    const redelivered = run([fire, clear], delivered.states);
    assert.deepEqual(
      redelivered.alerts.map((a) => a.id),
      delivered.alerts.map((a) => a.id),
    );
  });

  it('deleting a debit clears the conditions it held up and raises nothing; deleting a large one raises nothing', () => {
    const active: RuleState = { active: true, crossings: 1, since: ANCHOR.toISOString() };
    const prior = new Map([
      ['velocity:count', active],
      ['velocity:debit:GHS', active],
      ['sustained_outflow:GHS', active],
    ]);
    const deletion = txEvent(null, state(600_000n));
    const result = evaluateAlerts(rules, deletion, context(credits(1), { credit: 0n, debit: 100n }), prior);
    assert.deepEqual(result.alerts, []);
    assert.deepEqual(
      [...result.states.values()].map((s) => s.active),
      [false, false, false],
    );
  });

  it('deleting a credit can push net outflow over its margin, and that is a crossing', () => {
    const deletion = txEvent(null, state(100_000n, 'credit'));
    const result = evaluateAlerts(rules, deletion, context([], { credit: 0n, debit: 200_000n }), new Map());
    assert.deepEqual(keysOf(result.alerts), ['sustained_outflow:GHS']);
  });
});

describe('alert.raised wire format', () => {
  it('is snake_case, valid against its schema, keyed by the alert id and free of personal data', () => {
    const [alert] = evaluateAlerts(
      rules,
      txEvent(state(500_000n), null, 'tx-wire'),
      context(),
      new Map(),
    ).alerts;
    assert.ok(alert !== undefined);
    const wire = JSON.parse(JSON.stringify(alertToWire(alert)));
    assert.ok(Value.Check(AlertRaisedSchema, wire));
    assert.deepEqual(Object.keys(wire).sort(), [
      'alert_id',
      'details',
      'event_id',
      'occurred_at',
      'rule',
      'rules_version',
      'severity',
      'transaction_id',
      'type',
      'user_id',
    ]);
    assert.equal(wire.type, 'alert.raised');
    assert.equal(wire.event_id, alert.id);
    assert.equal(wire.transaction_id, 'tx-wire');
    assert.equal(wire.rules_version, '2026-11-30.1');
    assert.equal(wire.occurred_at, alert.raisedAt.toISOString());
  });

  it('outflow context sums the per-day totals per currency', () => {
    const day = (credit: bigint, debit: bigint) => ({
      count: 2,
      currencies: { GHS: { creditCount: 1, creditTotal: credit, debitCount: 1, debitTotal: debit } },
    });
    assert.deepEqual(
      outflowFromDays([day(100n, 250n), day(5n, 7n)]),
      new Map([['GHS', { credit: 105n, debit: 257n }]]),
    );
  });
});
