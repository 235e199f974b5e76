import { Type, type Static } from 'typebox';

const Money = Type.String({
  description: 'decimal string in the currency minor units',
  examples: ['123.45'],
});
const Side = Type.Object({ count: Type.Integer({ minimum: 0 }), total: Money });

export const AnalyticsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date', description: 'inclusive UTC day, YYYY-MM-DD' })),
    to: Type.Optional(Type.String({ format: 'date', description: 'inclusive UTC day, YYYY-MM-DD' })),
  },
  { additionalProperties: false },
);
export type AnalyticsQuery = Static<typeof AnalyticsQuery>;

export const AnalyticsResponse = Type.Object(
  {
    user_id: Type.String(),
    from: Type.Union([Type.String(), Type.Null()]),
    to: Type.Union([Type.String(), Type.Null()]),
    transaction_count: Type.Integer({ minimum: 0 }),
    day_with_most_transactions: Type.Union([
      Type.Object({ date: Type.String(), transaction_count: Type.Integer({ minimum: 1 }) }),
      Type.Null(),
    ]),
    currency: Type.Union([Type.String(), Type.Null()], {
      description: 'null when several currencies are in range',
    }),
    average_transaction_value: Type.Union([Money, Type.Null()]),
    total_credit: Type.Union([Money, Type.Null()]),
    total_debit: Type.Union([Money, Type.Null()]),
    by_currency: Type.Array(
      Type.Object({
        currency: Type.String(),
        transaction_count: Type.Integer({ minimum: 0 }),
        average_transaction_value: Type.Union([Money, Type.Null()]),
        credit: Side,
        debit: Side,
      }),
    ),
    as_of: Type.String({
      format: 'date-time',
      description: 'the statistics include every write acknowledged before this',
    }),
  },
  { additionalProperties: false },
);
export type AnalyticsResponse = Static<typeof AnalyticsResponse>;
