import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createAuthenticator, type Authenticate } from './auth/authenticator.ts';
import { createConsoleLogin, type ConsoleLogin } from './console/console-login.ts';
import { openEmbeddedBus } from './adapters/embedded-bus/embedded-bus.ts';
import { openEmbeddedStorage } from './adapters/sqlite/embedded-storage.ts';
import { createKafkaBus } from './adapters/kafka/kafka-bus.ts';
import { openMongoStorage } from './adapters/mongo/mongo-storage.ts';
import { createMemoryCacheStore } from './adapters/memory/memory-cache.ts';
import { createMemoryRateLimitStore } from './adapters/memory/memory-rate-limit.ts';
import { openRedisCacheStore } from './adapters/redis/redis-cache.ts';
import { openRedisClient } from './adapters/redis/redis-client.ts';
import { openRedisRateLimitStore } from './adapters/redis/redis-rate-limit.ts';
import { createReadCache, type ReadCache } from './cache/read-cache.ts';
import type { Config } from './config.ts';
import { loadOrCreateSecret, newEncryptionKeyEntry } from './crypto/key-file.ts';
import { createKeyring, parseKeys, type Keyring } from './crypto/keyring.ts';
import type { HealthCheck } from './http/health.routes.ts';
import type { RateLimit } from './http/rate-limit.ts';
import { createAlertsService, type AlertsService } from './alerts/alerts.service.ts';
import { createAnalyticsService, type AnalyticsService } from './analytics/analytics.service.ts';
import { createUserDays } from './analytics/user-days.ts';
import { createCreditScoreService, type CreditScoreService } from './scores/credit-score.service.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { EventBus } from './events/event-bus.port.ts';
import type { Storage } from './storage.port.ts';
import { traceBus } from './telemetry/traced-bus.ts';
import { traceStorage } from './telemetry/traced-store.ts';
import { partitionerFor, watchPartitionCount, type WatchedPartitionCount } from './events/partitioning.ts';
import { topicsFor } from './events/transaction-events.ts';
import { withDeadline } from './adapters/deadline.ts';
import { createHistoryService, type HistoryService } from './transactions/history.service.ts';
import { createTransactionService, type TransactionService } from './transactions/transactions.service.ts';
import { createWebhookService, type WebhookService } from './webhooks/webhooks.service.ts';
import { createWebhookFanOut } from './webhooks/webhook-fanout.ts';
import { loadAlertRules } from './alerts/alert-rules.ts';
import {
  createTransactionReactions,
  type TransactionReactions,
} from './reactions/transaction-reactions.service.ts';

/** How long a start waits for the first read of the partition count before writing without it. */
const FIRST_COUNT_WAIT_MS = 2_000;

/** Everything the entry points need, built once from config. */
export interface Deps {
  readonly config: Config;
  readonly logger: Logger;
  readonly keyring: Keyring;
  readonly storage: Storage;
  readonly bus: EventBus;
  /** Partitions of transactions.v1 as the bus knows them: each outbox entry records its own. */
  readonly partitionCount: WatchedPartitionCount;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly transactions: TransactionService;
  readonly history: HistoryService;
  readonly analytics: AnalyticsService;
  readonly webhooks: WebhookService;
  readonly creditScores: CreditScoreService;
  readonly alerts: AlertsService;
  /** What a batch of transaction events causes (projection, alerts, scores, webhooks): the worker's. */
  readonly reactions: TransactionReactions;
  readonly cache: ReadCache;
  /** Drops a user's cached reads on every instance. */
  invalidate(userId: string): Promise<void>;
  /** Called after every acknowledged write (a worker's relay listens, to publish at once). */
  readonly writeListeners: Set<() => void>;
  /** Called after webhook deliveries are queued (a worker's sender listens, to send at once). */
  readonly deliveryListeners: Set<() => void>;
  readonly authenticate: Authenticate | null;
  readonly rateLimit: RateLimit;
  readonly corsOrigins: readonly string[];
  readonly consoleLogin: ConsoleLogin | null;
  readonly health: readonly HealthCheck[];
  /** From now on readiness answers 503 (shutdown), so load balancers stop sending new requests. */
  withdraw(): void;
  close(): Promise<void>;
}

/**
 * The composition root: the only place that knows which adapter runs. With no MONGODB_URL the
 * embedded store under DATA_DIR serves; the choice is logged at start.
 */
export async function buildDeps(config: Config, logger: Logger): Promise<Deps> {
  const keyring = createKeyring(parseKeys(encryptionKeys(config, logger)));
  const lifecycle = { withdrawn: false };
  // read from the bus once it is open; until then (and while the topic does not exist) writes
  // record no partition and the relays assign one (docs/ARCHITECTURE.md)
  const counted: { count?: WatchedPartitionCount } = {};
  const outboxPartition = partitionerFor({ get: () => counted.count?.get() ?? null });
  // a span around each write when tracing is on
  const storage = traceStorage(
    config.mongodb
      ? await openMongoStorage({ ...config.mongodb, logger, outboxPartition })
      : await openEmbeddedStorage(config.dataDir, { outboxPartition }),
  );
  const busError = (error: unknown) => {
    logger.warn({ err: error }, 'event bus: recovering from an error');
  };
  // producer and consumer spans when tracing is on (the bus itself unchanged when off)
  const bus = traceBus(
    config.kafkaBrokers
      ? createKafkaBus({ brokers: config.kafkaBrokers, clientId: `fido-${config.role}`, onError: busError })
      : await openEmbeddedBus(config.dataDir, { onError: busError }),
  );
  const topics = topicsFor(config.events.topicPrefix);
  const partitionCount = watchPartitionCount(
    () => bus.partitionCount(topics.transactions),
    (error) => {
      logger.debug({ err: error }, 'event bus: partition count not read; retrying');
    },
  );
  counted.count = partitionCount;
  // so this process's first writes record their partition; bounded, as the bus may be away
  await withDeadline(partitionCount.first, FIRST_COUNT_WAIT_MS).catch(() => undefined);
  // Redis (one connection for the counters and the cache, shared by every instance) when
  // configured; both uses fail open, so Redis is never critical
  const redis = config.redisUrl
    ? await openRedisClient(
        config.redisUrl,
        logger,
        'not limiting request rates; serving reads from the store',
      )
    : null;
  const rateLimitStore = redis ? openRedisRateLimitStore(redis) : createMemoryRateLimitStore();
  const cacheStore = redis
    ? await openRedisCacheStore(redis)
    : createMemoryCacheStore({ maxEntries: config.cache.maxEntries });
  logger.info(
    {
      store: storage.name,
      rateLimit: rateLimitStore.name,
      cache: config.cache.ttlMs === 0 ? 'off' : cacheStore.name,
      bus: bus.name,
      encryptionKeyId: keyring.currentKeyId,
    },
    'adapters chosen',
  );
  const metrics = createMetrics();
  metrics.readOutboxBacklog(() => storage.outbox.backlog());
  const writeListeners = new Set<() => void>();
  const deliveryListeners = new Set<() => void>();
  const authenticate = authenticator(config, logger);
  const clock = () => new Date();
  const cache = createReadCache({
    store: cacheStore,
    metrics,
    logger: logger.child({ component: 'cache' }),
    ttlMs: config.cache.ttlMs,
    refreshAfterMs: config.cache.refreshAfterMs,
  });
  const invalidate = (userId: string) => cache.invalidate(userId);
  const transactions = createTransactionService({
    storage,
    keyring,
    clock,
    defaultCurrency: config.defaultCurrency,
    idempotencyTtlMs: config.idempotencyTtlMs,
    afterWrite: async (userId) => {
      await invalidate(userId);
      for (const listener of writeListeners) listener();
    },
  });
  const history = createHistoryService({ store: storage.transactions, keyring, cache });
  const userDays = createUserDays({ stats: storage.stats, metrics, waitMs: config.analyticsWaitMs });
  const analytics = createAnalyticsService({
    userDays,
    cache,
    clock,
    defaultCurrency: config.defaultCurrency,
  });
  const creditScores = createCreditScoreService({ userDays, alerts: storage.alerts, cache, clock });
  const alerts = createAlertsService({ alerts: storage.alerts, keyring, cache });
  const webhooks = createWebhookService({
    store: storage.webhooks,
    keyring,
    clock,
    allowedHosts: config.webhooks.allowedHosts,
  });
  // built when a worker first asks: only workers react to events, and an API must not need the
  // alert rules file to start
  let reactions: TransactionReactions | undefined;
  const reactionsOnce = (): TransactionReactions =>
    (reactions ??= createTransactionReactions({
      storage,
      rules: loadAlertRules(config.alertRulesFile),
      bus,
      topics,
      fanOut: createWebhookFanOut(storage.webhooks, clock, () => {
        for (const listener of deliveryListeners) listener();
      }),
      invalidate,
      metrics,
      clock,
    }));
  return {
    config,
    logger,
    keyring,
    storage,
    bus,
    partitionCount,
    metrics,
    clock,
    transactions,
    history,
    analytics,
    webhooks,
    creditScores,
    alerts,
    get reactions() {
      return reactionsOnce();
    },
    cache,
    invalidate,
    writeListeners,
    deliveryListeners,
    authenticate,
    rateLimit: { store: rateLimitStore, ...config.rateLimit },
    corsOrigins: config.corsOrigins,
    // after authenticator(): it reads the secret that step generated
    consoleLogin: createConsoleLogin(config),
    health: [
      {
        name: 'serving',
        critical: true,
        check: () => (lifecycle.withdrawn ? Promise.reject(new Error('shutting down')) : Promise.resolve()),
      },
      { name: 'store', critical: true, check: () => storage.ping() },
      // writes go to the outbox, so the API keeps serving while the broker is away
      { name: 'event_bus', critical: false, check: () => bus.ping() },
      // without the cache every read is answered from the store: slower, still correct
      { name: 'cache', critical: false, check: () => cache.check() },
    ],
    withdraw: () => {
      lifecycle.withdrawn = true;
    },
    async close() {
      partitionCount.stop();
      await bus.close();
      await storage.close();
      await rateLimitStore.close();
      await cache.close();
      // nothing in Redis is worth waiting for at shutdown; destroy also stops reconnecting
      redis?.destroy();
    },
  };
}

/**
 * ENCRYPTION_KEYS when given. Without it, only the embedded default may run: it generates a key
 * once into DATA_DIR. A shared database with per-instance keys would be unreadable, so that is
 * refused.
 */
function encryptionKeys(config: Config, logger: Logger): string {
  if (config.encryptionKeys !== undefined) return config.encryptionKeys;
  if (config.mongodb) throw new Error('ENCRYPTION_KEYS is required when MONGODB_URL is set');
  const { value, created } = loadOrCreateSecret(config.dataDir, 'encryption-keys', newEncryptionKeyEntry);
  if (created) {
    logger.warn(
      { dataDir: config.dataDir },
      'ENCRYPTION_KEYS not set: generated a local encryption key into DATA_DIR; set ENCRYPTION_KEYS in production',
    );
  }
  return value;
}

/**
 * JWT verification from JWT_JWKS_URL or JWT_SECRET. The embedded default generates a secret
 * into DATA_DIR so `npm start` is protected with no setup; `npm run token` signs with it.
 */
function authenticator(config: Config, logger: Logger): Authenticate | null {
  const { auth } = config;
  if (auth.disabled) {
    logger.warn(
      'AUTHENTICATION IS DISABLED (AUTH_DISABLED=true): every caller acts as a service. Local use only.',
    );
    return null;
  }
  let secret = auth.secret;
  if (secret === undefined && auth.jwksUrl === undefined) {
    if (config.mongodb) throw new Error('JWT_SECRET or JWT_JWKS_URL is required when MONGODB_URL is set');
    secret = loadOrCreateSecret(config.dataDir, 'jwt-secret', () =>
      randomBytes(32).toString('base64url'),
    ).value;
    logger.info(
      'JWT_SECRET not set: using the secret in DATA_DIR; get a token with: npm run token -- --sub USER --scope "transactions:read transactions:write analytics:read"',
    );
  }
  return createAuthenticator({ ...auth, secret });
}
