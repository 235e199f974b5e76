import { Type, type Static } from 'typebox';

export const AlertRuleSchema = Type.Enum(['large_transaction', 'velocity', 'sustained_outflow']);
const OptionalText = Type.Union([Type.String(), Type.Null()]);
/** What was measured against what: amounts as decimal strings of `currency`, never personal data. */
const DetailsSchema = Type.Object(
  {
    metric: Type.Enum(['amount', 'transaction_count', 'debit_total', 'net_outflow']),
    value: Type.String(),
    threshold: Type.String(),
    comparison: Type.Enum(['>=', '>']),
    currency: OptionalText,
    window: OptionalText, // ISO 8601 duration (PT30M, P30D); null for a single transaction
    window_end: OptionalText,
  },
  { additionalProperties: false },
);

/** SPEC "Events": the `alerts.v1` message and the `alert.raised` webhook body; consumers validate with it. */
export const AlertRaisedSchema = Type.Object(
  {
    event_id: Type.String({ minLength: 1 }),
    type: Type.Literal('alert.raised'),
    occurred_at: Type.String(),
    user_id: Type.String({ minLength: 1 }),
    alert_id: Type.String({ minLength: 1 }),
    rule: AlertRuleSchema,
    severity: Type.Enum(['low', 'medium', 'high']),
    transaction_id: Type.String({ minLength: 1 }),
    details: DetailsSchema,
    rules_version: Type.String(),
  },
  { additionalProperties: false },
);
export type AlertRaised = Static<typeof AlertRaisedSchema>;
export type AlertRule = Static<typeof AlertRuleSchema>;
export type AlertDetails = Static<typeof DetailsSchema>;
