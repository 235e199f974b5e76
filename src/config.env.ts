import { Type } from 'typebox';

/**
 * The one place that reads process.env. Every variable has a description that says what is
 * expected; a bad value stops the process before it listens, naming the variable.
 */
export const EnvSchema = Type.Object({
  ROLE: Type.Union([Type.Literal('api'), Type.Literal('worker'), Type.Literal('all')], {
    default: 'all',
    description: 'which part runs: api, worker or all',
  }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address to listen on' }),
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 3000,
    description: 'an integer TCP port 0-65535',
  }),
  METRICS_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 9464,
    description: 'an integer TCP port 0-65535 where the worker role serves health and metrics',
  }),
  TRUST_PROXY_HOPS: Type.Integer({
    minimum: 0,
    maximum: 10,
    default: 0,
    description:
      'proxies in front of the service whose X-Forwarded-For entry is trusted as the client address, 0-10',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' },
  ),
  DATA_DIR: Type.String({
    default: '.data',
    minLength: 1,
    description: 'a directory for the embedded storage and generated keys',
  }),
  MONGODB_URL: Type.Optional(
    Type.String({
      pattern: '^mongodb(\\+srv)?://[^\\s/]+(/[^\\s]*)?$',
      description: 'a mongodb:// or mongodb+srv:// URL',
    }),
  ),
  MONGODB_DATABASE: Type.String({
    default: 'fido',
    pattern: '^[A-Za-z0-9_-]{1,63}$',
    description: 'a database name used when MONGODB_URL names none',
  }),
  MONGODB_OPERATION_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 120_000,
    default: 10_000,
    description:
      'milliseconds one MongoDB operation may take before it fails as the store being unavailable (503), 100-120000',
  }),
  REDIS_URL: Type.Optional(
    Type.String({ pattern: '^rediss?://\\S+$', description: 'a redis:// or rediss:// URL' }),
  ),
  KAFKA_BROKERS: Type.Optional(
    Type.String({
      pattern: '^[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*$',
      description: 'comma-separated host:port pairs',
    }),
  ),
  ENCRYPTION_KEYS: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]{43}=?(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]{43}=?)*$',
      description: 'comma-separated keyid:base64 entries of 32-byte keys, current key first',
    }),
  ),
  DEFAULT_CURRENCY: Type.String({
    default: 'GHS',
    pattern: '^[A-Z]{3}$',
    description: 'an ISO 4217 code used when a transaction names none',
  }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({
    minimum: 24,
    maximum: 24 * 30,
    default: 24,
    description: 'hours an Idempotency-Key is kept, an integer 24-720',
  }),
  JWT_SECRET: Type.Optional(
    Type.String({ minLength: 32, description: 'an HS256 secret of at least 32 characters' }),
  ),
  JWT_JWKS_URL: Type.Optional(
    Type.String({
      pattern: '^https?://\\S+$',
      description: 'an http(s) URL of a JSON Web Key Set (RS256/ES256)',
    }),
  ),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'the expected iss claim' })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, description: 'the expected aud claim' })),
  JWT_CLOCK_SKEW_S: Type.Integer({
    minimum: 0,
    maximum: 300,
    default: 30,
    description: 'seconds of clock skew tolerated on exp/nbf/iat, 0-300',
  }),
  AUTH_DISABLED: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'false',
    description: 'true or false; true turns authentication off (local use only)',
  }),
  KAFKA_PARTITIONS: Type.Integer({
    minimum: 1,
    maximum: 1024,
    default: 6,
    description: 'partitions of transactions.v1 when the service creates it, 1-1024',
  }),
  KAFKA_TOPIC_PREFIX: Type.String({
    default: '',
    pattern: '^[A-Za-z0-9._-]{0,100}$',
    description: 'a prefix for every topic name (separates environments sharing a cluster)',
  }),
  WORKER_GROUP_ID: Type.String({
    default: 'fido-workers',
    pattern: '^[A-Za-z0-9._-]{1,100}$',
    description: 'the consumer group of the worker role',
  }),
  RELAY_POLL_MS: Type.Integer({
    minimum: 5,
    maximum: 10_000,
    default: 25,
    description: 'milliseconds between outbox polls when idle, 5-10000',
  }),
  RECONCILE_INTERVAL_MS: Type.Integer({
    minimum: 1_000,
    maximum: 86_400_000,
    default: 600_000,
    description: 'milliseconds between reconciliation runs of the worker, 1000-86400000',
  }),
  ANALYTICS_WAIT_MS: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 500,
    description: 'milliseconds an analytics read waits for the worker before computing exactly, 0-10000',
  }),
  RATE_LIMIT_MAX: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 1200,
    description: 'requests one client (token client, else IP) may make to /api/v1 per window, 1-1000000',
  }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({
    minimum: 100,
    maximum: 86_400_000,
    default: 60_000,
    description: 'milliseconds of one rate limit window, 100-86400000',
  }),
  CORS_ORIGINS: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s,/]+(,https?://[^\\s,/]+)*$',
      description: 'comma-separated origins (scheme://host[:port]) allowed by CORS; unset: CORS off',
    }),
  ),
  ALERT_RULES_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'path of the alert rules file (default: config/alert-rules.json)',
    }),
  ),
  CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    maximum: 86_400_000,
    default: 300_000,
    description:
      'milliseconds a cached history page or analytics answer lives, 0-86400000; 0 turns the cache off',
  }),
  CACHE_REFRESH_AFTER_MS: Type.Integer({
    minimum: 0,
    maximum: 86_400_000,
    default: 240_000,
    description:
      'milliseconds after which a read of a cached entry also recomputes it in the background; below CACHE_TTL_MS',
  }),
  CACHE_MAX_ENTRIES: Type.Integer({
    minimum: 1,
    maximum: 10_000_000,
    default: 10_000,
    description: 'entries the in-memory cache (embedded default, no REDIS_URL) holds at most, 1-10000000',
  }),
  WEBHOOK_RETRY_FOR_MS: Type.Integer({
    minimum: 1_000,
    maximum: 30 * 86_400_000,
    default: 90_000_000,
    description:
      'milliseconds a failing webhook delivery is retried before it is dead-lettered, 1000-2592000000 (default 25 h)',
  }),
  WEBHOOK_BACKOFF_BASE_MS: Type.Integer({
    minimum: 10,
    maximum: 3_600_000,
    default: 1_000,
    description: 'milliseconds before the first webhook retry, doubling each attempt, 10-3600000',
  }),
  WEBHOOK_BACKOFF_MAX_MS: Type.Integer({
    minimum: 10,
    maximum: 86_400_000,
    default: 3_600_000,
    description: 'longest wait between two webhook attempts in milliseconds, 10-86400000',
  }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 5_000,
    description: 'milliseconds a webhook receiver has to answer an attempt, 100-60000',
  }),
  WEBHOOK_CONCURRENCY: Type.Integer({
    minimum: 2,
    maximum: 1_000,
    default: 16,
    description: 'webhook attempts in flight at once per worker (2 at most per subscription), 2-1000',
  }),
  WEBHOOK_POLL_MS: Type.Integer({
    minimum: 10,
    maximum: 60_000,
    default: 1_000,
    description: 'milliseconds between polls for due webhook deliveries when idle, 10-60000',
  }),
  WEBHOOK_RETENTION_MS: Type.Integer({
    minimum: 3_600_000,
    maximum: 31_536_000_000,
    default: 2_592_000_000,
    description:
      'milliseconds delivered and dead webhook deliveries are kept (then deleted), 3600000-31536000000 (default 30 days; keep it longer than the topics retention)',
  }),
  WEBHOOK_ALLOWED_HOSTS: Type.Optional(
    Type.String({
      pattern: '^[^\\s,]+(,[^\\s,]+)*$',
      description:
        'comma-separated host names webhook URLs may point to (*.example.com for subdomains); unset: any host',
    }),
  ),
  TRACES_READ_SAMPLE_RATIO: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0.01,
    description:
      'share of reads (and other traces a request did not start) recorded with tracing on, 0-1; ignored when OTEL_TRACES_SAMPLER is set',
  }),
  TRACES_WRITE_SAMPLE_RATIO: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 1,
    description:
      'share of writes (POST, PUT, PATCH, DELETE) recorded with tracing on, 0-1 (default every one); ignored when OTEL_TRACES_SAMPLER is set',
  }),
  SHUTDOWN_WITHDRAW_MS: Type.Integer({
    minimum: 0,
    maximum: 60_000,
    default: 0,
    description:
      'milliseconds readiness answers 503 on SIGTERM before the listener closes, so load balancers stop routing first; set it to their detection time (HAProxy: inter x fall), 0-60000',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 120_000,
    default: 10_000,
    description: 'milliseconds to finish in-flight work on SIGTERM, 100-120000',
  }),
});
