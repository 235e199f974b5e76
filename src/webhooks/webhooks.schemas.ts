import { Type, type Static } from 'typebox';

/** The events a subscription can ask for; `transaction.*` stands for the three transaction events. */
export const WEBHOOK_EVENT_TYPES = [
  'alert.raised',
  'transaction.created',
  'transaction.updated',
  'transaction.deleted',
  'transaction.*',
  'credit_score.changed',
] as const;

export const MAX_URL_LENGTH = 2048;

const EventType = Type.Enum([...WEBHOOK_EVENT_TYPES], {
  description: `one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
});
const Url = Type.String({
  maxLength: MAX_URL_LENGTH,
  // the shape only; webhooks.service.ts parses it and checks credentials and allowed hosts
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://\\S+$',
  description: 'an absolute http:// or https:// URL without credentials, at most 2048 characters',
  examples: ['https://hooks.example.com/fido'],
});
const WebhookId = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'an opaque id of 1-64 characters A-Z a-z 0-9 _ -',
  examples: ['wh_01JDQ7X3R5T8M2K9ZP4C6V1B0N'],
});
const Timestamp = Type.String({ format: 'date-time' });

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    event_types: Type.Array(EventType, {
      minItems: 1,
      maxItems: WEBHOOK_EVENT_TYPES.length,
      uniqueItems: true,
    }),
    secret: Type.Optional(
      Type.String({
        pattern: '^[\\x21-\\x7E]{24,200}$',
        description:
          '24-200 printable ASCII characters without spaces; omitted: the service generates one (whsec_...)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

const subscriptionFields = {
  id: WebhookId,
  url: Type.String(),
  event_types: Type.Array(Type.String()),
  created_at: Timestamp,
};

export const WebhookResponse = Type.Object(subscriptionFields, { additionalProperties: false });
export type WebhookResponse = Static<typeof WebhookResponse>;

export const CreatedWebhookResponse = Type.Object(
  {
    ...subscriptionFields,
    secret: Type.String({
      description: 'signs every delivery; shown only in this response, so store it now',
    }),
  },
  { additionalProperties: false },
);
export type CreatedWebhookResponse = Static<typeof CreatedWebhookResponse>;

export const WebhookListResponse = Type.Object({ data: Type.Array(WebhookResponse) });

export const DeliveryResponse = Type.Object(
  {
    id: Type.String({ description: 'the Webhook-Id header of every attempt of this delivery' }),
    event_id: Type.String(),
    event_type: Type.String(),
    state: Type.Enum(['pending', 'delivered', 'dead'], {
      description: 'dead: retried for the whole retry period without success (dead-lettered)',
    }),
    attempts: Type.Integer({ minimum: 0 }),
    created_at: Timestamp,
    next_attempt_at: Type.Union([Timestamp, Type.Null()], { description: 'null unless pending' }),
    last_attempt_at: Type.Union([Timestamp, Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()], {
      description:
        'what the last failed attempt got: the HTTP status and the start of the body, or the error',
    }),
    delivered_at: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false },
);
export type DeliveryResponse = Static<typeof DeliveryResponse>;

export const DeliveryListResponse = Type.Object({ data: Type.Array(DeliveryResponse) });

export const DEFAULT_DELIVERIES_LIMIT = 50;
export const DeliveriesQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_DELIVERIES_LIMIT })),
  },
  { additionalProperties: false },
);

export const WebhookParams = Type.Object({ id: WebhookId });
