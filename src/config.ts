import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import { EnvSchema } from './config.env.ts';

type Env = Static<typeof EnvSchema>;

export interface Config {
  readonly role: Env['ROLE'];
  readonly host: string;
  readonly port: number;
  /** The worker role's health and metrics listener (the other roles serve both on `port`). */
  readonly metricsPort: number;
  /** Load balancers in front: the client address is the entry the outermost of them added. */
  readonly trustProxyHops: number;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly dataDir: string;
  readonly mongodb:
    | {
        readonly url: string;
        readonly database: string;
        /** The deadline of every store operation (a stalled socket answers 503, never hangs). */
        readonly operationTimeoutMs: number;
      }
    | undefined;
  readonly redisUrl: string | undefined;
  readonly kafkaBrokers: readonly string[] | undefined;
  readonly encryptionKeys: string | undefined;
  readonly defaultCurrency: string;
  readonly idempotencyTtlMs: number;
  readonly shutdownTimeoutMs: number;
  /** Readiness fails this long on SIGTERM before the listener closes (load balancers' detection time). */
  readonly shutdownWithdrawMs: number;
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  readonly corsOrigins: readonly string[];
  readonly events: {
    readonly topicPrefix: string;
    readonly partitions: number;
    readonly groupId: string;
    readonly relayPollMs: number;
    readonly reconcileIntervalMs: number;
  };
  readonly analyticsWaitMs: number;
  /** With tracing on: the shares of reads and of writes recorded (docs/TRACING.md, "Sampling"). */
  readonly traceSampleRatios: { readonly reads: number; readonly writes: number };
  /** Where the worker reads its alert rules; undefined: the shipped config/alert-rules.json. */
  readonly alertRulesFile: string | undefined;
  readonly cache: { readonly ttlMs: number; readonly refreshAfterMs: number; readonly maxEntries: number };
  readonly webhooks: {
    readonly retryForMs: number;
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
    readonly pollMs: number;
    /** How long finished (delivered, dead) deliveries are kept for GET /webhooks/{id}/deliveries. */
    readonly retentionMs: number;
    /** Lower-case host names (`*.` prefix: any subdomain); null: any host. */
    readonly allowedHosts: readonly string[] | null;
  };
  readonly auth: {
    readonly disabled: boolean;
    readonly secret: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly clockSkewS: number;
  };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type EnvInput = Readonly<Record<string, string | undefined>>;

/** Reads the variables the service knows; an empty string counts as unset. */
export function loadConfig(env: EnvInput = process.env): Config {
  const known = Object.keys(EnvSchema.properties);
  const raw: Record<string, string> = {};
  for (const name of known) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw));
  if (!Value.Check(EnvSchema, parsed))
    throw new ConfigError(describeProblems(parsed as Record<string, unknown>, raw));
  if (parsed.CACHE_TTL_MS > 0 && parsed.CACHE_REFRESH_AFTER_MS >= parsed.CACHE_TTL_MS) {
    throw new ConfigError([
      `CACHE_REFRESH_AFTER_MS=${parsed.CACHE_REFRESH_AFTER_MS} is invalid: expected less than CACHE_TTL_MS (${parsed.CACHE_TTL_MS}), so hot entries are refreshed before they expire`,
    ]);
  }
  if (parsed.SHUTDOWN_WITHDRAW_MS >= parsed.SHUTDOWN_TIMEOUT_MS) {
    throw new ConfigError([
      `SHUTDOWN_WITHDRAW_MS=${parsed.SHUTDOWN_WITHDRAW_MS} is invalid: expected less than SHUTDOWN_TIMEOUT_MS (${parsed.SHUTDOWN_TIMEOUT_MS}), which bounds the whole stop`,
    ]);
  }
  return toConfig(parsed);
}

/** Checks each variable on its own, so every bad one is named (not only the first few). */
function describeProblems(parsed: Record<string, unknown>, raw: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const value = parsed[name];
    if (value === undefined || Value.Check(schema, value)) continue;
    problems.push(`${name}=${JSON.stringify(raw[name] ?? '')} is invalid: expected ${describe(name)}`);
  }
  return problems;
}

function describe(name: string): string {
  const schema = (EnvSchema.properties as Record<string, { description?: string } | undefined>)[name];
  return schema?.description ?? 'a valid value';
}

function toConfig(env: Env): Config {
  const mongodb =
    env.MONGODB_URL === undefined
      ? undefined
      : {
          url: env.MONGODB_URL,
          database: env.MONGODB_DATABASE,
          operationTimeoutMs: env.MONGODB_OPERATION_TIMEOUT_MS,
        };
  return Object.freeze({
    role: env.ROLE,
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    logLevel: env.LOG_LEVEL,
    dataDir: env.DATA_DIR,
    mongodb,
    redisUrl: env.REDIS_URL,
    kafkaBrokers: env.KAFKA_BROKERS?.split(','),
    encryptionKeys: env.ENCRYPTION_KEYS,
    defaultCurrency: env.DEFAULT_CURRENCY,
    idempotencyTtlMs: env.IDEMPOTENCY_TTL_HOURS * 3_600_000,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    shutdownWithdrawMs: env.SHUTDOWN_WITHDRAW_MS,
    traceSampleRatios: Object.freeze({
      reads: env.TRACES_READ_SAMPLE_RATIO,
      writes: env.TRACES_WRITE_SAMPLE_RATIO,
    }),
    rateLimit: Object.freeze({ max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS }),
    corsOrigins: Object.freeze(env.CORS_ORIGINS?.split(',') ?? []),
    events: Object.freeze({
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
      partitions: env.KAFKA_PARTITIONS,
      groupId: env.WORKER_GROUP_ID,
      relayPollMs: env.RELAY_POLL_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
    }),
    analyticsWaitMs: env.ANALYTICS_WAIT_MS,
    alertRulesFile: env.ALERT_RULES_FILE,
    cache: Object.freeze({
      ttlMs: env.CACHE_TTL_MS,
      refreshAfterMs: env.CACHE_REFRESH_AFTER_MS,
      maxEntries: env.CACHE_MAX_ENTRIES,
    }),
    webhooks: Object.freeze({
      retryForMs: env.WEBHOOK_RETRY_FOR_MS,
      backoffBaseMs: env.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: env.WEBHOOK_BACKOFF_MAX_MS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
      pollMs: env.WEBHOOK_POLL_MS,
      retentionMs: env.WEBHOOK_RETENTION_MS,
      allowedHosts:
        env.WEBHOOK_ALLOWED_HOSTS === undefined
          ? null
          : Object.freeze(env.WEBHOOK_ALLOWED_HOSTS.split(',').map((h) => h.toLowerCase())),
    }),
    auth: Object.freeze({
      disabled: env.AUTH_DISABLED === 'true',
      secret: env.JWT_SECRET,
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      clockSkewS: env.JWT_CLOCK_SKEW_S,
    }),
  });
}

/** The variables, their defaults and what they expect: the table of docs/CONFIGURATION.md. */
export function describeVariables(): { name: string; default: unknown; expected: string }[] {
  return Object.entries(EnvSchema.properties).map(([name, schema]) => ({
    name,
    default: (schema as { default?: unknown }).default,
    expected: describe(name),
  }));
}

/** For entry points: the config, or one line on stderr naming what is wrong and exit code 2. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
