import { MongoBulkWriteError, type Db, type Filter, type WriteError } from 'mongodb';
import type {
  WebhookDelivery,
  WebhookStore,
  WebhookSubscription,
} from '../../webhooks/webhook-store.port.ts';
import type { Guard } from './mongo-guard.ts';
import { traceContextOf, withTraceContext } from '../../telemetry/stored-trace-context.ts';
import type { TraceCarrier } from '../../telemetry/tracing.ts';

/** `webhooks`: one document per subscription; the secret only sealed. */
interface SubscriptionDoc {
  _id: string;
  url: string;
  event_types: string[];
  secret_sealed: string;
  owner: string;
  created_at: Date;
}

/** `webhook_deliveries`: one document per (subscription, event); _id is the Webhook-Id. */
interface DeliveryDoc {
  _id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  state: WebhookDelivery['state'];
  attempts: number;
  created_at: Date;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  /** W3C traceparent/tracestate of the processing that queued it (docs/TRACING.md). */
  trace_context?: TraceCarrier;
}

const DUPLICATE_KEY = 11000;

/**
 * Webhook subscriptions and deliveries on MongoDB, using only what is atomic on every server we
 * target (FerretDB included): an enqueue is an insert under the deterministic delivery id, so a
 * redelivered event cannot queue a second delivery; an attempt's outcome replaces the document by
 * _id (one dispatcher owns a delivery while it sends it).
 */
export async function createMongoWebhookStore(db: Db, guard: Guard): Promise<WebhookStore> {
  const subscriptions = db.collection<SubscriptionDoc>('webhooks');
  const deliveries = db.collection<DeliveryDoc>('webhook_deliveries');
  await guard(() =>
    Promise.all([
      subscriptions.createIndex({ owner: 1, created_at: 1 }, { name: 'by_owner' }, undefined),
      subscriptions.createIndex({ event_types: 1 }, { name: 'by_event_type' }, undefined),
      // the dispatcher's poll: pending ones in due order
      deliveries.createIndex({ state: 1, next_attempt_at: 1 }, { name: 'due' }, undefined),
      // GET /webhooks/{id}/deliveries, newest first
      deliveries.createIndex({ subscription_id: 1, created_at: -1 }, { name: 'by_subscription' }, undefined),
    ]),
  );
  const byAge = { created_at: 1, _id: 1 } as const;

  return {
    async create(subscription) {
      await guard(() => subscriptions.insertOne(toSubscriptionDoc(subscription)));
    },
    async list(owner) {
      const filter = owner === null ? {} : { owner };
      const docs = await guard(() => subscriptions.find(filter).sort(byAge).toArray());
      return docs.map(toSubscription);
    },
    async get(id) {
      const doc = await guard(() => subscriptions.findOne({ _id: id }));
      return doc === null ? null : toSubscription(doc);
    },
    async delete(id) {
      const removed = await guard(() => subscriptions.deleteOne({ _id: id }));
      // the subscription first: a crash in between leaves only orphans, which the dispatcher drops
      await guard(() => deliveries.deleteMany({ subscription_id: id }));
      return removed.deletedCount === 1;
    },
    async matching(eventType) {
      const wanted = eventType.startsWith('transaction.') ? [eventType, 'transaction.*'] : [eventType];
      const docs = await guard(() =>
        subscriptions
          .find({ event_types: { $in: wanted } })
          .sort(byAge)
          .toArray(),
      );
      return docs.map(toSubscription);
    },
    async enqueue(items) {
      if (items.length === 0) return;
      try {
        await guard(() => deliveries.insertMany(items.map(toDeliveryDoc), { ordered: false }));
      } catch (error) {
        // unordered: every new one is inserted; the duplicates are the redelivered ones
        if (!(error instanceof MongoBulkWriteError)) throw error;
        const errors = ([] as WriteError[]).concat(error.writeErrors);
        if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw error;
      }
    },
    async due(now, limit, exclude = []) {
      const filter: Filter<DeliveryDoc> = { state: 'pending', next_attempt_at: { $lte: now } };
      if (exclude.length > 0) filter.subscription_id = { $nin: [...exclude] };
      const docs = await guard(() =>
        deliveries.find(filter).sort({ next_attempt_at: 1, _id: 1 }).limit(limit).toArray(),
      );
      return docs.map(toDelivery);
    },
    async update(delivery) {
      // no upsert: an outcome arriving after its subscription was deleted stays deleted
      await guard(() => deliveries.replaceOne({ _id: delivery.id }, toDeliveryDoc(delivery)));
    },
    async deliveries(subscriptionId, limit) {
      const docs = await guard(() =>
        deliveries
          .find({ subscription_id: subscriptionId })
          .sort({ created_at: -1, _id: -1 })
          .limit(limit)
          .toArray(),
      );
      return docs.map(toDelivery);
    },
    async purgeFinished(before, limit) {
      // ids first, then by _id: deleteMany takes no limit, and a bounded sweep must not hold the server
      const finished = await guard(() =>
        deliveries
          .find(
            { state: { $in: ['delivered', 'dead'] }, created_at: { $lt: before } },
            { projection: { _id: 1 } },
          )
          .limit(limit)
          .toArray(),
      );
      if (finished.length === 0) return 0;
      const removed = await guard(() => deliveries.deleteMany({ _id: { $in: finished.map((d) => d._id) } }));
      return removed.deletedCount;
    },
  };
}

function toSubscriptionDoc(s: WebhookSubscription): SubscriptionDoc {
  return {
    _id: s.id,
    url: s.url,
    event_types: [...s.eventTypes],
    secret_sealed: s.secretSealed,
    owner: s.owner,
    created_at: s.createdAt,
  };
}

function toSubscription(doc: SubscriptionDoc): WebhookSubscription {
  return {
    id: doc._id,
    url: doc.url,
    eventTypes: doc.event_types,
    secretSealed: doc.secret_sealed,
    owner: doc.owner,
    createdAt: doc.created_at,
  };
}

function toDeliveryDoc(d: WebhookDelivery): DeliveryDoc {
  return {
    _id: d.id,
    subscription_id: d.subscriptionId,
    event_id: d.eventId,
    event_type: d.eventType,
    payload: d.payload,
    state: d.state,
    attempts: d.attempts,
    created_at: d.createdAt,
    next_attempt_at: d.nextAttemptAt,
    last_attempt_at: d.lastAttemptAt,
    last_error: d.lastError,
    delivered_at: d.deliveredAt,
    ...(d.traceContext === undefined ? {} : { trace_context: d.traceContext }),
  };
}

function toDelivery(doc: DeliveryDoc): WebhookDelivery {
  return {
    id: doc._id,
    subscriptionId: doc.subscription_id,
    eventId: doc.event_id,
    eventType: doc.event_type,
    payload: doc.payload,
    state: doc.state,
    attempts: doc.attempts,
    createdAt: doc.created_at,
    nextAttemptAt: doc.next_attempt_at,
    lastAttemptAt: doc.last_attempt_at,
    lastError: doc.last_error,
    deliveredAt: doc.delivered_at,
    ...withTraceContext(traceContextOf(doc.trace_context)),
  };
}
