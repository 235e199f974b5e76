import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Where the test bed's (or any) servers answer. */
export interface Servers {
  readonly mongodbUrl: string;
  readonly redisUrl: string;
  readonly kafkaBrokers: string;
  /** Jaeger's OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT), when known. */
  readonly otlpEndpoint?: string;
  /** Jaeger's query API and UI (JAEGER_URL), when known. */
  readonly jaegerUrl?: string;
}

/** The servers from the environment, else from the test bed's up.sh (which prints them). */
export function serverUrls(): Servers {
  const env: Record<string, string | undefined> = { ...process.env };
  if (env.MONGODB_URL === undefined || env.REDIS_URL === undefined || env.KAFKA_BROKERS === undefined) {
    process.stderr.write('MONGODB_URL, REDIS_URL or KAFKA_BROKERS not set: starting the test bed\n');
    const up = spawnSync('bash', [join(import.meta.dirname, '..', 'testbed', 'up.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    if (up.status !== 0) {
      process.stderr.write('the test bed did not come up; see above\n');
      process.exit(1);
    }
    for (const match of up.stdout.matchAll(/^([A-Z_]+)=(.*)$/gm)) env[match[1] ?? ''] = match[2];
  }
  const { MONGODB_URL, REDIS_URL, KAFKA_BROKERS, OTEL_EXPORTER_OTLP_ENDPOINT, JAEGER_URL } = env;
  if (MONGODB_URL === undefined || REDIS_URL === undefined || KAFKA_BROKERS === undefined) {
    process.stderr.write('no server URLs\n');
    process.exit(1);
  }
  return {
    mongodbUrl: MONGODB_URL,
    redisUrl: REDIS_URL,
    kafkaBrokers: KAFKA_BROKERS,
    ...(OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? {} : { otlpEndpoint: OTEL_EXPORTER_OTLP_ENDPOINT }),
    ...(JAEGER_URL === undefined ? {} : { jaegerUrl: JAEGER_URL }),
  };
}
