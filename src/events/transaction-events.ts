import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { formatAmount, parseAmount } from '../money/amount.ts';
import { isKnownCurrency } from '../money/currencies.ts';
import type { EventState, TransactionEvent } from '../transactions/transaction.ts';

/** Topic names; the prefix (KAFKA_TOPIC_PREFIX) separates environments sharing one cluster. */
export const topicsFor = (prefix: string) => ({
  transactions: `${prefix}transactions.v1`,
  transactionsDlq: `${prefix}transactions.v1.dlq`,
  alerts: `${prefix}alerts.v1`,
  creditScores: `${prefix}credit-scores.v1`,
});
export type Topics = ReturnType<typeof topicsFor>;

const ISO_INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';

/** SPEC "Events (Kafka)": before/after hold amount, type, currency and date, never the name. */
const StateSchema = Type.Object(
  {
    transaction_amount: Type.String({ pattern: '^\\d+(\\.\\d+)?$' }),
    transaction_currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    transaction_type: Type.Enum(['credit', 'debit']),
    transaction_date: Type.String({ pattern: ISO_INSTANT }),
  },
  { additionalProperties: false },
);

export const TransactionEventSchema = Type.Object(
  {
    event_id: Type.String({ minLength: 1, maxLength: 64 }),
    type: Type.Enum(['transaction.created', 'transaction.updated', 'transaction.deleted']),
    occurred_at: Type.String({ pattern: ISO_INSTANT }),
    user_id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' }),
    transaction_id: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.Integer({ minimum: 1 }),
    before: Type.Union([StateSchema, Type.Null()]),
    after: Type.Union([StateSchema, Type.Null()]),
  },
  { additionalProperties: false },
);
type WireEvent = Static<typeof TransactionEventSchema>;
type WireState = Static<typeof StateSchema>;

const validator = Compile(TransactionEventSchema);

export function toWire(event: TransactionEvent): string {
  const state = (s: EventState | null): WireState | null =>
    s === null
      ? null
      : {
          transaction_amount: formatAmount(s.amountMinor, s.currency),
          transaction_currency: s.currency,
          transaction_type: s.type,
          transaction_date: s.transactionDate.toISOString(),
        };
  const wire: WireEvent = {
    event_id: event.eventId,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    user_id: event.userId,
    transaction_id: event.transactionId,
    version: event.version,
    before: state(event.before),
    after: state(event.after),
  };
  return JSON.stringify(wire);
}

/** Validates a message against the event schema; the reason names what is wrong. */
export function parseWire(
  value: string,
): { ok: true; event: TransactionEvent } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (!validator.Check(json)) {
    const first = validator.Errors(json)[0];
    return { ok: false, reason: `schema: ${first?.instancePath ?? ''} ${first?.message ?? 'invalid'}` };
  }
  const wire = json;
  try {
    return {
      ok: true,
      event: {
        eventId: wire.event_id,
        type: wire.type,
        occurredAt: new Date(wire.occurred_at),
        userId: wire.user_id,
        transactionId: wire.transaction_id,
        version: wire.version,
        before: fromWireState(wire.before),
        after: fromWireState(wire.after),
      },
    };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function fromWireState(s: WireState | null): EventState | null {
  if (s === null) return null;
  if (!isKnownCurrency(s.transaction_currency)) throw new Error(`unknown currency ${s.transaction_currency}`);
  const amount = parseAmount(s.transaction_amount, s.transaction_currency);
  if (!amount.ok) throw new Error(`transaction_amount ${amount.message}`);
  const date = new Date(s.transaction_date);
  if (Number.isNaN(date.getTime())) throw new Error('transaction_date is not a date');
  return {
    amountMinor: amount.minor,
    currency: s.transaction_currency,
    type: s.transaction_type,
    transactionDate: date,
  };
}
