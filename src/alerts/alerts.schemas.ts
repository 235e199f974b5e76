import { Type, type Static } from 'typebox';
import { AlertRuleSchema } from '../events/alert-events.ts';

export const AlertsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'page size, 1-200' }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'opaque, from next_cursor' }),
    ),
  },
  { additionalProperties: false },
);
export type AlertsQuery = Static<typeof AlertsQuery>;

const AlertView = Type.Object(
  {
    id: Type.String(),
    user_id: Type.String(),
    rule: AlertRuleSchema,
    rule_key: Type.String({ description: 'the rule instance, e.g. velocity:count or sustained_outflow:GHS' }),
    severity: Type.Enum(['low', 'medium', 'high']),
    raised_at: Type.String({ format: 'date-time' }),
    transaction_id: Type.String({ description: 'the transaction whose event crossed the rule' }),
    details: Type.Object(
      {
        metric: Type.String(),
        value: Type.String(),
        threshold: Type.String(),
        comparison: Type.String(),
        currency: Type.Union([Type.String(), Type.Null()]),
        window: Type.Union([Type.String(), Type.Null()]),
        window_end: Type.Union([Type.String(), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    rules_version: Type.String(),
  },
  { additionalProperties: false },
);
export type AlertView = Static<typeof AlertView>;

export const AlertsResponse = Type.Object(
  { data: Type.Array(AlertView), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
export type AlertsResponse = Static<typeof AlertsResponse>;
