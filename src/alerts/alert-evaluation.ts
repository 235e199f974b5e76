import { createHash } from 'node:crypto';
import type { AmountRow, DayTotals } from '../analytics/day-totals.ts';
import { formatAmount } from '../money/amount.ts';
import type { EventState, TransactionEvent } from '../transactions/transaction.ts';
import type { AlertDetails, AlertRule } from '../events/alert-events.ts';
import { velocityWindow, type AlertRules, type Severity } from './alert-rules.ts';

/** The edge-trigger memory of one rule instance of one user; an absent state means never active. */
export interface RuleState {
  readonly active: boolean;
  /** Times the condition was seen to become true; informative only, no id depends on it. */
  readonly crossings: number;
  /** occurred_at of the event that activated it; null while inactive. */
  readonly since: string | null;
}

export interface Alert {
  readonly id: string;
  readonly userId: string;
  readonly rule: AlertRule;
  readonly ruleKey: string;
  readonly severity: Severity;
  readonly raisedAt: Date;
  readonly transactionId: string;
  readonly details: AlertDetails;
  readonly rulesVersion: string;
}

export interface CurrencyFlow {
  readonly credit: bigint;
  readonly debit: bigint;
}

/** What the worker loads from the store for one event (windows: alert-rules.ts). */
export interface AlertContext {
  /** The user's live transactions dated in velocityWindow(anchor); rows outside it are ignored. */
  readonly velocityRows: readonly AmountRow[];
  /** Per currency, the user's live totals over outflowDays(anchor). */
  readonly outflow: ReadonlyMap<string, CurrencyFlow>;
}

export interface Evaluation {
  /** Only the rule states that changed, to be saved after the alerts. */
  readonly states: Map<string, RuleState>;
  readonly alerts: Alert[];
}

/** The instant the windows end at: the transaction's date, its last one for a deletion. */
export const alertAnchor = (event: TransactionEvent): Date | null =>
  event.after?.transactionDate ?? event.before?.transactionDate ?? null;

/**
 * Same user, rule instance and event give the same id, so a redelivered event re-raises an alert
 * the store already holds and insert-if-absent drops it. The event id rather than a crossing
 * counter: offsets are committed after a batch's states are saved, so a crashed batch "fire, then
 * clear" is redelivered onto the cleared state; the first event fires again, and only an input
 * that does not depend on saved state gives it the id it had the first time.
 */
export function alertId(userId: string, ruleKey: string, eventId: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([userId, ruleKey, eventId]))
    .digest('base64url');
  return digest.slice(0, 22);
}

/** One rule instance measured for one event; `holds` is its condition at the event's anchor. */
interface Condition {
  readonly rule: AlertRule;
  readonly ruleKey: string;
  readonly holds: boolean;
  readonly details: AlertDetails;
}

/**
 * Evaluates every rule for one event. Velocity and outflow are edge-triggered over `previous`
 * (feed the returned states back before the user's next event); a large transaction needs no
 * state, since the event's `before` already says whether this transaction was large.
 */
export function evaluateAlerts(
  rules: AlertRules,
  event: TransactionEvent,
  context: AlertContext,
  previous: ReadonlyMap<string, RuleState>,
): Evaluation {
  const states = new Map<string, RuleState>();
  const alerts: Alert[] = [];
  const anchor = alertAnchor(event);
  if (anchor === null) return { states, alerts };
  const raise = (c: Condition) =>
    alerts.push({
      id: alertId(event.userId, c.ruleKey, event.eventId),
      userId: event.userId,
      rule: c.rule,
      ruleKey: c.ruleKey,
      severity: severityOf(rules, c.rule),
      raisedAt: event.occurredAt,
      transactionId: event.transactionId,
      details: c.details,
      rulesVersion: rules.version,
    });
  const large = largeTransactionCrossing(rules, event);
  if (large !== null) raise(large);
  const edged = [
    ...velocityConditions(rules, anchor, context.velocityRows),
    ...outflowConditions(rules, anchor, context.outflow),
  ];
  for (const condition of edged) {
    const before = previous.get(condition.ruleKey);
    if (condition.holds === (before?.active ?? false)) continue;
    const crossings = before?.crossings ?? 0;
    if (!condition.holds) {
      states.set(condition.ruleKey, { active: false, crossings, since: null });
      continue;
    }
    states.set(condition.ruleKey, {
      active: true,
      crossings: crossings + 1,
      since: event.occurredAt.toISOString(),
    });
    raise(condition);
  }
  return { states, alerts };
}

function severityOf(rules: AlertRules, rule: AlertRule): Severity {
  if (rule === 'large_transaction') return rules.largeTransaction.severity;
  return rule === 'velocity' ? rules.velocity.severity : rules.sustainedOutflow.severity;
}

/** Fires when this version reaches its currency's threshold and the previous one did not. */
function largeTransactionCrossing(rules: AlertRules, event: TransactionEvent): Condition | null {
  const reached = (s: EventState | null): bigint | null => {
    const threshold = s === null ? undefined : rules.largeTransaction.thresholds.get(s.currency);
    return s !== null && threshold !== undefined && s.amountMinor >= threshold ? threshold : null;
  };
  const threshold = reached(event.after);
  if (event.after === null || threshold === null || reached(event.before) !== null) return null;
  return {
    rule: 'large_transaction',
    ruleKey: `large_transaction:${event.transactionId}`,
    holds: true,
    details: {
      metric: 'amount',
      comparison: '>=',
      ...money(event.after.amountMinor, threshold, event.after.currency),
      window: null,
      window_end: null,
    },
  };
}

function velocityConditions(
  rules: AlertRules,
  anchor: Date,
  velocityRows: readonly AmountRow[],
): Condition[] {
  const { windowMinutes, maxTransactions, maxDebit } = rules.velocity;
  const { after, upTo } = velocityWindow(rules, anchor);
  const rows = velocityRows.filter((r) => r.transactionDate > after && r.transactionDate <= upTo);
  const window = { window: `PT${windowMinutes}M`, window_end: upTo.toISOString() };
  const conditions: Condition[] = [
    {
      rule: 'velocity',
      ruleKey: 'velocity:count',
      holds: rows.length > maxTransactions,
      details: {
        metric: 'transaction_count',
        comparison: '>',
        value: String(rows.length),
        threshold: String(maxTransactions),
        currency: null,
        ...window,
      },
    },
  ];
  for (const [currency, max] of maxDebit) {
    let debit = 0n;
    for (const r of rows) if (r.type === 'debit' && r.currency === currency) debit += r.amountMinor;
    const details = {
      metric: 'debit_total',
      comparison: '>',
      ...money(debit, max, currency),
      ...window,
    } as const;
    conditions.push({ rule: 'velocity', ruleKey: `velocity:debit:${currency}`, holds: debit > max, details });
  }
  return conditions;
}

function outflowConditions(
  rules: AlertRules,
  anchor: Date,
  outflow: ReadonlyMap<string, CurrencyFlow>,
): Condition[] {
  return [...rules.sustainedOutflow.margin].map(([currency, margin]) => {
    const flow = outflow.get(currency);
    const net = (flow?.debit ?? 0n) - (flow?.credit ?? 0n);
    return {
      rule: 'sustained_outflow',
      ruleKey: `sustained_outflow:${currency}`,
      holds: net >= margin,
      details: {
        metric: 'net_outflow',
        comparison: '>=',
        ...money(net, margin, currency),
        window: `P${rules.sustainedOutflow.windowDays}D`,
        window_end: anchor.toISOString(),
      },
    };
  });
}

const money = (value: bigint, threshold: bigint, currency: string) => ({
  value: formatAmount(value, currency),
  threshold: formatAmount(threshold, currency),
  currency,
});

/** The outflow context from the per-day totals the statistics keep, given the days of outflowDays(). */
export function outflowFromDays(days: Iterable<DayTotals>): Map<string, CurrencyFlow> {
  const flows = new Map<string, CurrencyFlow>();
  for (const day of days) {
    for (const [currency, totals] of Object.entries(day.currencies)) {
      const sum = flows.get(currency) ?? { credit: 0n, debit: 0n };
      flows.set(currency, { credit: sum.credit + totals.creditTotal, debit: sum.debit + totals.debitTotal });
    }
  }
  return flows;
}
