import { Type, type Static } from 'typebox';
import { BANDS, FACTOR_NAMES } from './credit-score.model.ts';

export const CreditScoreResponse = Type.Object(
  {
    user_id: Type.String(),
    score: Type.Integer({ minimum: 300, maximum: 850 }),
    band: Type.Enum(BANDS.map((b) => b.band)),
    factors: Type.Array(
      Type.Object({
        name: Type.Enum([...FACTOR_NAMES]),
        value: Type.Union([Type.Number(), Type.Null()], {
          description: 'the raw measure (docs/CREDIT-SCORE.md); null when the window holds no data',
        }),
        contribution: Type.Integer({ minimum: 0, description: 'points this factor adds above 300' }),
      }),
    ),
    model_version: Type.String(),
    computed_at: Type.String({
      format: 'date-time',
      description: 'the score includes every write acknowledged before this',
    }),
  },
  { additionalProperties: false },
);
export type CreditScoreResponse = Static<typeof CreditScoreResponse>;
