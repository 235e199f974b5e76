import type { TraceCarrier } from './telemetry/tracing.ts';
import type { Alert, RuleState } from './alerts/alert-evaluation.ts';
import type { AmountRow, DayTotals } from './analytics/day-totals.ts';
import type {
  AuditEntry,
  TransactionEvent,
  TransactionRecord,
  TransactionType,
  TransactionWrite,
} from './transactions/transaction.ts';

/** Keyset position in a user's history: newest transaction_date first, ties by id descending. */
export interface HistoryPosition {
  readonly transactionDate: Date;
  readonly id: string;
}

export interface HistoryQuery {
  readonly userId: string;
  /** Inclusive lower bound on transaction_date. */
  readonly from?: Date;
  /** Exclusive upper bound on transaction_date. */
  readonly to?: Date;
  readonly type?: TransactionType;
  /** Return only records strictly after this position in the order above. */
  readonly after?: HistoryPosition;
  readonly limit: number;
}

/**
 * Where transactions live. Each write applies the record, appends its audit line and records its
 * event in the outbox as ONE atomic operation (a single document on MongoDB, one SQLite
 * transaction on the embedded store), so no write can exist without its event.
 */
export interface TransactionStore {
  /** Fails with DuplicateIdError when the id exists. */
  insert(write: TransactionWrite): Promise<void>;
  /** The record, tombstones included (deletedAt set); null when the id never existed. */
  get(id: string): Promise<TransactionRecord | null>;
  /**
   * Replaces the record iff its stored version is `expectedVersion` and it is not deleted.
   * Returns false when another write won (or it was deleted) in between.
   */
  replace(expectedVersion: number, write: TransactionWrite): Promise<boolean>;
  /** Live (not deleted) records of a user in history order, at most `limit`. */
  listByUser(query: HistoryQuery): Promise<TransactionRecord[]>;
  /** The audit trail of a transaction, oldest version first; empty when unknown. */
  auditTrail(id: string): Promise<AuditEntry[]>;
}

/** What an Idempotency-Key remembers: the response to replay, sealed because it holds a name. */
export interface IdempotencyRecord {
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  /** The transaction id reserved for this key, so a retry after a crash cannot create a second. */
  readonly transactionId: string;
  readonly state: 'in_flight' | 'completed';
  readonly status: number | null;
  readonly responseSealed: string | null;
  readonly lockedUntil: Date;
  readonly expiresAt: Date;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly record: IdempotencyRecord }
  | { readonly kind: 'existing'; readonly record: IdempotencyRecord };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) for a first request; if a live record exists returns it instead. An
   * expired record is replaced; an in-flight one whose lock has lapsed is taken over (same
   * transaction id, so the takeover cannot create a second transaction).
   */
  claim(candidate: IdempotencyRecord, now: Date): Promise<ClaimResult>;
  complete(scope: string, key: string, status: number, responseSealed: string): Promise<void>;
  /** Forgets an in-flight claim whose request failed before creating anything. */
  release(scope: string, key: string): Promise<void>;
  /** Deletes records whose expiresAt has passed; returns how many. */
  sweepExpired(now: Date): Promise<number>;
}

/**
 * A sealed value at rest as key rotation sees it: where it lives (the adapter's collection or
 * table, the row's key there, the field), what it was sealed for (its associated data follows
 * from that) and the sealed text. Adapters only move these strings; the caller does the crypto.
 */
export interface SealedItem {
  readonly place: { readonly collection: string; readonly id: string; readonly field: string };
  readonly subject:
    | { readonly kind: 'transaction_name'; readonly transactionId: string }
    | { readonly kind: 'idempotent_response'; readonly scope: string; readonly key: string }
    | { readonly kind: 'webhook_secret'; readonly subscriptionId: string };
  readonly sealed: string;
}

/**
 * Re-encryption after a key rotation. `currentPrefix` is how every value sealed under the current
 * key begins (`v1.<key id>.`); values that begin with it are left out, so a run killed midway, or
 * run again, reads only what is still to do.
 */
export interface ReencryptionStore {
  /** Values not yet under the current key: a progress estimate, concurrent writes move it. */
  countStale(currentPrefix: string): Promise<number>;
  /**
   * Values not under the current key in the records after `cursor` (null: from the start), at
   * most `limit` records; `next` is null once every record has been passed.
   */
  scanStale(
    currentPrefix: string,
    cursor: string | null,
    limit: number,
  ): Promise<{ items: SealedItem[]; next: string | null }>;
  /** Stores `resealed` iff the place still holds `item.sealed`; false when it changed or is gone. */
  replace(item: SealedItem, resealed: string): Promise<boolean>;
}

/** A store adapter: both stores plus lifecycle. */
export interface Storage {
  readonly name: string;
  readonly transactions: TransactionStore;
  readonly idempotency: IdempotencyStore;
  readonly reencryption: ReencryptionStore;
  readonly outbox: Outbox;
  readonly stats: StatsStore;
  readonly alerts: AlertStore;
  readonly scores: CreditScoreStore;
  readonly webhooks: WebhookStore;
  /** Answers when the backing server serves a real request; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DuplicateIdError extends Error {
  constructor(id: string) {
    super(`a record with id ${id} exists`);
    this.name = 'DuplicateIdError';
  }
}

/**
 * The bus refuses this message for good (too large, an invalid record): sending it again cannot
 * succeed, unlike a bus that is away (DependencyUnavailableError). The relay quarantines it.
 */
export class MessageRefusedError extends Error {
  constructor(reason: string, cause?: unknown) {
    super(reason, { cause });
    this.name = 'MessageRefusedError';
  }
}

/** A message as the bus carries it: JSON text keyed so one key's messages keep their order. */
export interface BusMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ConsumedMessage extends BusMessage {
  readonly partition: number;
  /** Position in the partition, as a decimal string (Kafka offsets are int64). */
  readonly offset: string;
}

export interface SubscribeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Largest batch handed to `handle`. */
  readonly maxBatch: number;
  /**
   * Processes a batch. Offsets are committed only after it resolves; if it throws, the batch is
   * delivered again (at least once). Messages of one partition arrive in order.
   */
  handle(batch: readonly ConsumedMessage[]): Promise<void>;
}

export interface Subscription {
  /** Partitions this member owns now (for metrics and the takeover test). */
  assignments(): readonly { topic: string; partition: number }[];
  /**
   * For each partition this member owns: messages after the group's committed offset (the log
   * end minus the committed position). Empty while it owns none.
   */
  lag(): Promise<readonly { topic: string; partition: number; lag: number }[]>;
  /** Finishes the batch in hand, commits it, leaves the group. */
  close(): Promise<void>;
}

/**
 * The event bus: Kafka in production, a durable embedded log for `npm start`. Same semantics on
 * both: publish resolves once the messages are durable, in order per key; consumers in one group
 * share partitions; delivery is at least once.
 */
export interface EventBus {
  readonly name: string;
  ensureTopics(topics: readonly { name: string; partitions: number }[]): Promise<void>;
  /** The topic's partition count as the bus knows it now; null when the topic does not exist. */
  partitionCount(topic: string): Promise<number | null>;
  publish(messages: readonly BusMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Which pending events a relay asks for: those whose marker names one of `partitions` (of
 * `transactions.v1`, `count` partitions in all; the partitions its consumer-group member owns).
 * Markers written before the partition count was known carry none; the adapter assigns them
 * (Kafka's default partitioner over `count`) and hands out the relay's own.
 */
export interface RelaySlice {
  readonly partitions: readonly number[];
  readonly count: number;
}

/**
 * An event waiting in the outbox; `id` is the store's handle for marking it. `unreadable` when the
 * stored event no longer parses (the relay quarantines it): `stored` is its stored form (never a
 * name: events carry none), `key` its user id when that can be read.
 */
export type OutboxEntry =
  | {
      readonly id: string;
      readonly event: TransactionEvent;
      /** The write's trace context, stored with the event (absent when tracing was off). */
      readonly traceContext?: TraceCarrier;
    }
  | { readonly id: string; readonly unreadable: UnreadableEvent };

export interface UnreadableEvent {
  readonly key: string;
  readonly stored: string;
  readonly reason: string;
}

/** An event set aside by the relay: it could not be parsed or published. */
export interface QuarantinedEvent {
  readonly id: string;
  readonly userId: string | null;
  readonly reason: string;
  readonly at: Date;
}

/**
 * The transactional outbox: events recorded with their writes, handed to the bus by the relay.
 * `pending` guarantees the stored current state of each transaction is at least as new as its
 * events, so a consumer reading the store after an event sees that event's write.
 */
export interface Outbox {
  /** Oldest first (per user in write order), at most `limit`; every partition when `slice` is absent. */
  pending(limit: number, slice?: RelaySlice): Promise<OutboxEntry[]>;
  /** Marks events published; answers how many were not marked yet (first publications). */
  markPublished(ids: readonly string[], at: Date): Promise<number>;
  /** Sets events aside: never handed out by `pending` again until requeued, not in the backlog. */
  quarantine(items: readonly { readonly id: string; readonly reason: string }[], at: Date): Promise<void>;
  /** Quarantined events, oldest first, at most `limit`. */
  quarantined(limit: number): Promise<QuarantinedEvent[]>;
  /** Hands a quarantined event to the relays again (re-read from the store); false for an unknown id. */
  requeue(id: string): Promise<boolean>;
  /** Events not yet published (quarantined ones left out); of the slice's partitions when given. */
  backlog(slice?: RelaySlice): Promise<number>;
  /** Store operations (commands, statements) this outbox issued since it was opened. */
  operations(): number;
}

export interface StoredStats {
  readonly days: ReadonlyMap<string, DayTotals>;
  readonly updatedAt: Date;
}

/** A write whose effect on the statistics is not projected yet (read-your-writes). */
export interface PendingProjection {
  readonly userId: string;
  readonly transactionId: string;
  readonly version: number;
}

/**
 * Per-user statistics: totals per UTC day, maintained by the worker from the current state of the
 * user's transactions. Every write records a pending marker with itself; the worker clears it once
 * projected, so a reader knows whether the statistics include every acknowledged write.
 */
export interface StatsStore {
  /** Live transactions of a user with transaction_date in [from, to). */
  liveInRange(userId: string, from: Date, to: Date): Promise<AmountRow[]>;
  /** All live transactions of a user, and whether the user ever had any (deleted ones count). */
  liveOfUser(userId: string): Promise<{ rows: AmountRow[]; everHad: boolean }>;
  read(userId: string): Promise<StoredStats | null>;
  /** Sets each given day (null removes it) and marks the user known. One writer per user. */
  saveDays(userId: string, days: ReadonlyMap<string, DayTotals | null>, at: Date): Promise<void>;
  /**
   * A projected batch: sets each user's given days, then clears the markers of the events
   * projected, in one transaction where the store has them (the markers never before the days).
   */
  saveProjection(
    daysByUser: ReadonlyMap<string, ReadonlyMap<string, DayTotals | null>>,
    projected: readonly PendingProjection[],
    at: Date,
  ): Promise<void>;
  hasPending(userId: string): Promise<boolean>;
  clearPending(items: readonly PendingProjection[]): Promise<void>;
  /** Markers older than `before` (a lagging worker or a write that died before its commit). */
  stalePending(before: Date, limit: number): Promise<PendingProjection[]>;
  /** Users with statistics, in id order after `after`, for reconciliation. */
  userIds(after: string | null, limit: number): Promise<string[]>;
}

/** One counted request: the count in the current fixed window and when that window ends. */
export interface RateLimitHit {
  readonly count: number;
  readonly resetAtMs: number;
}

/**
 * Fixed-window request counters keyed by client (Redis, shared by every instance; in memory,
 * per process). `hit` counts one request; it may reject when the backing server cannot answer
 * in time, and the caller then lets the request through (fail open).
 */
export interface RateLimitStore {
  readonly name: string;
  hit(key: string, windowMs: number): Promise<RateLimitHit>;
  close(): Promise<void>;
}

/** A cached value and when it was computed (for refresh-ahead). */
export interface CacheEntry {
  readonly value: string;
  readonly storedAtMs: number;
}

/**
 * What `read` finds: the user's current generation, and the entry if it was stored under it;
 * or, when the caller said it holds an answer of `held` and that is still the current
 * generation, `held: true` and no entry (the caller's copy is current; nothing to transfer).
 */
export interface CacheLookup {
  readonly generation: string;
  readonly entry: CacheEntry | null;
  readonly held?: boolean;
}

/**
 * The read cache: Redis (shared by every instance) in production, a bounded in-memory LRU for the
 * embedded default. Entries are grouped by user under a GENERATION: `bump` gives a user a new
 * generation, which makes every entry of that user unreachable at once; `read` returns an entry
 * only if it was stored under the user's current generation. A generation value is never reused
 * (not after eviction, not after a cache server restart), so an old entry can never match again.
 * Operations may reject (server down or slow); callers treat that as a miss.
 */
export interface CacheStore {
  readonly name: string;
  /**
   * The user's current generation (created if the user has none) and the entry `key` under it;
   * `held`: a generation the caller already holds an answer for `key` of (see CacheLookup).
   */
  read(userId: string, key: string, held?: string): Promise<CacheLookup>;
  /** Stores `value` for `key` under `generation`, expiring after `ttlMs`. */
  write(userId: string, key: string, generation: string, value: string, ttlMs: number): Promise<void>;
  /** Gives each user a new generation: their entries are unreachable once this resolves. */
  bump(userIds: readonly string[]): Promise<void>;
  /** Answers when the backing server answers; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Where alerts are kept, with the per-user rule states that make them edge-triggered. */
export interface AlertStore {
  /** Stores the alerts whose id is new; an id already stored is left as it is (redelivery). */
  insert(alerts: readonly Alert[]): Promise<void>;
  /** A user's alerts newest first (raisedAt desc, id desc), strictly after `after`, at most `limit`. */
  listByUser(
    userId: string,
    after: { readonly raisedAt: Date; readonly id: string } | undefined,
    limit: number,
  ): Promise<Alert[]>;
  /** How many alerts of the user were raised at or after `since`. */
  countSince(userId: string, since: Date): Promise<number>;
  /** The user's rule states by rule key (empty for a user never evaluated) and how far they go. */
  ruleStates(userId: string): Promise<UserRuleStates>;
  /**
   * For each user: sets the given rule states (others unchanged) and the position evaluated
   * through, in one transaction where the store has them. One writer per user (the worker).
   */
  saveRuleStates(byUser: ReadonlyMap<string, UserRuleStates>): Promise<void>;
}

/** Where a consumed event sat on its topic, and when it occurred (see alertsReplayed). */
export interface EventPosition {
  readonly partition: number;
  readonly offset: bigint;
  readonly occurredAt: Date;
}

export interface UserRuleStates {
  readonly states: ReadonlyMap<string, RuleState>;
  /** The last event the rules were evaluated for; a replay skips it and those before it. */
  readonly evaluatedThrough: EventPosition | null;
}

/** The last credit score the worker computed for a user: what `credit_score.changed` compares to. */
export interface StoredCreditScore {
  readonly score: number;
  readonly band: string;
  readonly modelVersion: string;
  readonly computedAt: Date;
}

export interface CreditScoreStore {
  get(userId: string): Promise<StoredCreditScore | null>;
  /** Replaces the stored score of each user given (one transaction where the store has them). */
  put(scores: ReadonlyMap<string, StoredCreditScore>): Promise<void>;
}

/** A subscription of another system to our events; the secret is sealed (it signs deliveries). */
export interface WebhookSubscription {
  readonly id: string;
  readonly url: string;
  /** Event types, or `transaction.*` for the three transaction events. */
  readonly eventTypes: readonly string[];
  readonly secretSealed: string;
  /** The client (token) that created it; only it (or a service token) sees or deletes it. */
  readonly owner: string;
  readonly createdAt: Date;
}

/** One event to one subscription. `id` is deterministic (subscription, event): the Webhook-Id. */
export interface WebhookDelivery {
  readonly id: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** The JSON body sent, exactly (it is what the signature covers). Holds no customer name. */
  readonly payload: string;
  readonly state: 'pending' | 'delivered' | 'dead';
  readonly attempts: number;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly lastAttemptAt: Date | null;
  readonly lastError: string | null;
  readonly deliveredAt: Date | null;
  /** The trace of the event's processing, so the send continues the write's trace. */
  readonly traceContext?: TraceCarrier;
}

export interface WebhookStore {
  create(subscription: WebhookSubscription): Promise<void>;
  /** Subscriptions of `owner`, or of everyone when null, oldest first. */
  list(owner: string | null): Promise<WebhookSubscription[]>;
  get(id: string): Promise<WebhookSubscription | null>;
  /** Removes the subscription and its pending deliveries; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Subscriptions that want `eventType` (directly or through `transaction.*`). */
  matching(eventType: string): Promise<WebhookSubscription[]>;
  /** Stores deliveries whose id is new; existing ids are left as they are (redelivered events). */
  enqueue(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /**
   * Pending deliveries due at `now`, earliest first, at most `limit`, leaving out those of the
   * `exclude`d subscriptions (ones whose send slots are full, so their backlog cannot crowd
   * other subscriptions out of the page).
   */
  due(now: Date, limit: number, exclude?: readonly string[]): Promise<WebhookDelivery[]>;
  /** Records the outcome of an attempt (state, attempts, times, error). */
  update(delivery: WebhookDelivery): Promise<void>;
  /** A subscription's deliveries, newest first, at most `limit`. */
  deliveries(subscriptionId: string, limit: number): Promise<WebhookDelivery[]>;
  /** Deletes at most `limit` delivered or dead deliveries created before `before`; answers how many. */
  purgeFinished(before: Date, limit: number): Promise<number>;
}
