import { Type, type Static } from 'typebox';

/** SPEC: 1-64 chars of [A-Za-z0-9_.:-], starting alphanumeric. */
export const USER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';

export const UserId = Type.String({
  pattern: USER_ID_PATTERN,
  description: '1-64 characters of A-Z a-z 0-9 _ . : -, starting with a letter or digit',
  examples: ['u-42'],
});
export const TransactionId = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'an opaque id of 1-64 characters A-Z a-z 0-9 _ -',
  examples: ['01JDQ7X3R5T8M2K9ZP4C6V1B0N'],
});

const FullName = Type.String({
  minLength: 1,
  maxLength: 400,
  description: 'trimmed, 1-200 characters',
  examples: ['Ama Mensah'],
});
const TransactionDate = Type.String({
  minLength: 16,
  maxLength: 40,
  // the shape here (so the OpenAPI document says it); calendar validity and the 24 h bound are
  // checked in transaction-input.ts
  pattern: '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?([Zz]|[+-]\\d{2}:\\d{2})$',
  description: 'an ISO 8601 date-time with offset or Z, not more than 24 h in the future',
  examples: ['2024-10-05T10:00:00Z'],
});
const Amount = Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Number()], {
  description:
    'a positive decimal (JSON number or string) with at most the currency minor-unit digits, at most 10^12',
  examples: ['475.66'],
});
const Kind = Type.Enum(['credit', 'debit'], { description: 'credit or debit' });
const Currency = Type.String({
  minLength: 3,
  maxLength: 3,
  description: 'ISO 4217 code the service knows',
  examples: ['GHS'],
});

const mutable = {
  full_name: FullName,
  transaction_date: TransactionDate,
  transaction_amount: Amount,
  transaction_type: Kind,
};

export const CreateBody = Type.Object(
  { user_id: UserId, ...mutable, transaction_currency: Type.Optional(Currency) },
  { additionalProperties: false },
);
export const ReplaceBody = Type.Object(
  { user_id: Type.Optional(UserId), ...mutable, transaction_currency: Type.Optional(Currency) },
  { additionalProperties: false },
);
export const PatchBody = Type.Object(
  {
    user_id: Type.Optional(UserId),
    full_name: Type.Optional(FullName),
    transaction_date: Type.Optional(TransactionDate),
    transaction_amount: Type.Optional(Amount),
    transaction_type: Type.Optional(Kind),
    transaction_currency: Type.Optional(Currency),
  },
  { additionalProperties: false, description: 'JSON merge patch of the mutable fields' },
);
export type CreateBody = Static<typeof CreateBody>;
export type ReplaceBody = Static<typeof ReplaceBody>;
export type PatchBody = Static<typeof PatchBody>;

export const TransactionResponse = Type.Object(
  {
    id: TransactionId,
    user_id: Type.String(),
    full_name: Type.String(),
    transaction_date: Type.String({ format: 'date-time' }),
    transaction_amount: Type.String({ description: 'decimal string', examples: ['475.66'] }),
    transaction_type: Kind,
    transaction_currency: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type TransactionResponse = Static<typeof TransactionResponse>;

export const VersionsResponse = Type.Object(
  {
    transaction_id: TransactionId,
    versions: Type.Array(
      Type.Object(
        {
          version: Type.Integer({ minimum: 1 }),
          action: Type.Enum(['created', 'updated', 'deleted']),
          written_at: Type.String({ format: 'date-time' }),
          written_by: Type.String({ description: 'the sub of the token that wrote it' }),
          full_name: Type.String(),
          transaction_date: Type.String({ format: 'date-time' }),
          transaction_amount: Type.String(),
          transaction_type: Kind,
          transaction_currency: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'every version, oldest first, deletion included' },
);
export type VersionsResponse = Static<typeof VersionsResponse>;

/** SPEC: a page holds 50 unless `limit` (1-200) says otherwise. */
export const DEFAULT_HISTORY_LIMIT = 50;

export const HistoryQuery = Type.Object(
  {
    // optional for the client; validation fills the default (Ajv useDefaults)
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_HISTORY_LIMIT })),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'opaque, from next_cursor' }),
    ),
    from: Type.Optional(Type.String({ format: 'date', description: 'inclusive UTC day, YYYY-MM-DD' })),
    to: Type.Optional(Type.String({ format: 'date', description: 'inclusive UTC day, YYYY-MM-DD' })),
    type: Type.Optional(Kind),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const HistoryResponse = Type.Object({
  data: Type.Array(TransactionResponse),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const IdParams = Type.Object({ id: TransactionId });
export const UserParams = Type.Object({ user_id: UserId });

const FieldErrorSchema = Type.Object({ pointer: Type.String(), message: Type.String() });
export const ProblemResponse = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { description: 'RFC 9457 problem details' },
);

/**
 * The error responses of an /api/v1 route, for the OpenAPI document and the serializer: RFC 9457
 * bodies under their own media type, as sendProblem answers them. Every such route can also answer
 * 401/403 (auth), 414 (URL too long), 429 (rate limit) and 503 (a dependency down), so those are
 * always declared.
 */
/** Conditional reads: If-None-Match holding the current ETag answers 304 with no body. */
export const notModified = {
  304: Type.Null({
    description:
      'Not Modified: the If-None-Match request header holds the current ETag (strong; any write of the user changes it); no body',
  }),
};

export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    [...new Set([...codes, 401, 403, 414, 429, 503])].map((c) => [
      c,
      {
        description: 'problem details',
        content: { 'application/problem+json': { schema: ProblemResponse } },
      },
    ]),
  );
