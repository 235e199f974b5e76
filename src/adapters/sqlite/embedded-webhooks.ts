import type { DatabaseSync } from 'node:sqlite';
import type {
  WebhookDelivery,
  WebhookStore,
  WebhookSubscription,
} from '../../webhooks/webhook-store.port.ts';
import {
  traceContextFromText,
  traceContextToText,
  withTraceContext,
} from '../../telemetry/stored-trace-context.ts';
import {
  inWriteTransaction,
  readDate,
  readNullable,
  readNumber,
  readText,
  settle,
  type Row,
} from './embedded-sqlite.ts';

const SUBSCRIPTION_COLUMNS = 'id, url, event_types, secret_sealed, owner, created_at';
const DELIVERY_COLUMNS =
  'id, subscription_id, event_id, event_type, payload, state, attempts, created_at, next_attempt_at, last_attempt_at, last_error, delivered_at, trace_context';

/**
 * Webhook subscriptions and deliveries in SQLite. Delivery ids are deterministic, so INSERT OR
 * IGNORE keeps the delivery stored first when an event is redelivered; a batch is one transaction.
 */
export function createEmbeddedWebhookStore(db: DatabaseSync): WebhookStore {
  const insertSubscription = db.prepare(
    `INSERT INTO webhooks (${SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const byOwner = db.prepare(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhooks WHERE owner = ? ORDER BY created_at, id`,
  );
  const all = db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM webhooks ORDER BY created_at, id`);
  const byId = db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM webhooks WHERE id = ?`);
  const removeSubscription = db.prepare('DELETE FROM webhooks WHERE id = ?');
  const removeDeliveries = db.prepare('DELETE FROM webhook_deliveries WHERE subscription_id = ?');
  const matching = db.prepare(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhooks
     WHERE EXISTS (SELECT 1 FROM json_each(webhooks.event_types) WHERE value IN (?, ?))
     ORDER BY created_at, id`,
  );
  const insertDelivery = db.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries (${DELIVERY_COLUMNS})
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // the excluded subscriptions arrive as one JSON array, so one statement serves every list
  const due = db.prepare(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
     WHERE state = 'pending' AND next_attempt_at <= ?
       AND subscription_id NOT IN (SELECT value FROM json_each(?))
     ORDER BY next_attempt_at, id LIMIT ?`,
  );
  const updateDelivery = db.prepare(
    `UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?,
       last_error = ?, delivered_at = ?
     WHERE id = ?`,
  );
  const purge = db.prepare(
    `DELETE FROM webhook_deliveries WHERE id IN (
       SELECT id FROM webhook_deliveries WHERE state IN ('delivered', 'dead') AND created_at < ? LIMIT ?)`,
  );
  const ofSubscription = db.prepare(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = ?
     ORDER BY created_at DESC, id DESC LIMIT ?`,
  );

  return {
    create: (s) =>
      settle(() => {
        insertSubscription.run(
          s.id,
          s.url,
          JSON.stringify(s.eventTypes),
          s.secretSealed,
          s.owner,
          s.createdAt.getTime(),
        );
      }),
    list: (owner) => settle(() => (owner === null ? all.all() : byOwner.all(owner)).map(toSubscription)),
    get: (id) =>
      settle(() => {
        const row = byId.get(id);
        return row === undefined ? null : toSubscription(row);
      }),
    delete: (id) =>
      settle(() =>
        inWriteTransaction(db, () => {
          removeDeliveries.run(id);
          return Number(removeSubscription.run(id).changes) === 1;
        }),
      ),
    matching: (eventType) =>
      settle(() => {
        const wildcard = eventType.startsWith('transaction.') ? 'transaction.*' : eventType;
        return matching.all(eventType, wildcard).map(toSubscription);
      }),
    enqueue: (items) =>
      settle(() => {
        if (items.length === 0) return;
        inWriteTransaction(db, () => {
          for (const d of items) {
            insertDelivery.run(
              d.id,
              d.subscriptionId,
              d.eventId,
              d.eventType,
              d.payload,
              d.state,
              d.attempts,
              d.createdAt.getTime(),
              d.nextAttemptAt.getTime(),
              d.lastAttemptAt?.getTime() ?? null,
              d.lastError,
              d.deliveredAt?.getTime() ?? null,
              traceContextToText(d.traceContext),
            );
          }
        });
      }),
    due: (now, limit, exclude = []) =>
      settle(() => due.all(now.getTime(), JSON.stringify(exclude), limit).map(toDelivery)),
    update: (d) =>
      settle(() => {
        updateDelivery.run(
          d.state,
          d.attempts,
          d.nextAttemptAt.getTime(),
          d.lastAttemptAt?.getTime() ?? null,
          d.lastError,
          d.deliveredAt?.getTime() ?? null,
          d.id,
        );
      }),
    deliveries: (subscriptionId, limit) =>
      settle(() => ofSubscription.all(subscriptionId, limit).map(toDelivery)),
    purgeFinished: (before, limit) => settle(() => Number(purge.run(before.getTime(), limit).changes)),
  };
}

function toSubscription(row: Row): WebhookSubscription {
  const eventTypes: unknown = JSON.parse(readText(row, 'event_types'));
  if (!Array.isArray(eventTypes) || !eventTypes.every((t) => typeof t === 'string')) {
    throw new TypeError('column event_types: expected a JSON array of strings');
  }
  return {
    id: readText(row, 'id'),
    url: readText(row, 'url'),
    eventTypes,
    secretSealed: readText(row, 'secret_sealed'),
    owner: readText(row, 'owner'),
    createdAt: readDate(row, 'created_at'),
  };
}

function toDelivery(row: Row): WebhookDelivery {
  const state = readText(row, 'state');
  if (state !== 'pending' && state !== 'delivered' && state !== 'dead') {
    throw new TypeError(`unknown delivery state ${state}`);
  }
  return {
    id: readText(row, 'id'),
    subscriptionId: readText(row, 'subscription_id'),
    eventId: readText(row, 'event_id'),
    eventType: readText(row, 'event_type'),
    payload: readText(row, 'payload'),
    state,
    attempts: readNumber(row, 'attempts'),
    createdAt: readDate(row, 'created_at'),
    nextAttemptAt: readDate(row, 'next_attempt_at'),
    lastAttemptAt: readNullable(row, 'last_attempt_at', readDate),
    lastError: readNullable(row, 'last_error', readText),
    deliveredAt: readNullable(row, 'delivered_at', readDate),
    ...withTraceContext(traceContextFromText(row.trace_context)),
  };
}
