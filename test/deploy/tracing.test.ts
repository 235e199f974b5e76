import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startService, type ServiceProcess } from '../../scripts/stack/processes.ts';
import {
  eventually,
  newTransaction,
  requireEnv,
  TEST_ENCRYPTION_KEYS,
  TEST_JWT_SECRET,
  tokenFor,
  uniqueId,
} from '../helpers.ts';
import { startReceiver } from '../worker/webhook-receiver.ts';

/** What `npm run services:up` prints for Jaeger (docs/TESTBED.md), as run-tests hands it on. */
function jaegerEnv(name: 'TESTBED_OTLP_ENDPOINT' | 'JAEGER_URL'): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the suite with \`npm test\` (the test bed starts Jaeger) or export it`,
    );
  }
  return value;
}

interface JaegerSpan {
  spanID: string;
  operationName: string;
  processID: string;
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

const tag = (tags: { key: string; value: unknown }[], key: string) => tags.find((t) => t.key === key)?.value;

describe('one write traced through an API and a worker process into Jaeger', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-tracing-'));
  const prefix = `${uniqueId('traced')}.`;
  const env = {
    MONGODB_URL: requireEnv('MONGODB_URL'),
    MONGODB_DATABASE: uniqueId('fido_traced').replaceAll('-', '_'),
    REDIS_URL: requireEnv('REDIS_URL'),
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_PARTITIONS: '3',
    WORKER_GROUP_ID: uniqueId('traced-workers'),
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    PORT: '0',
    WEBHOOK_POLL_MS: '50',
    OTEL_EXPORTER_OTLP_ENDPOINT: jaegerEnv('TESTBED_OTLP_ENDPOINT'),
    // export within a fraction of a second, so the test polls Jaeger briefly
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const started: ServiceProcess[] = [];
  after(async () => {
    for (const s of started) s.kill('SIGKILL');
    await Promise.all(started.map((s) => s.exited));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'Jaeger finds one trace by fido.transaction_id with spans of both processes and the Kafka hop; the webhook carries it',
    { timeout: 120_000 },
    async () => {
      const api = await startService('api', { ...env, ROLE: 'api' });
      started.push(api.service);
      const worker = await startService('worker', { ...env, ROLE: 'worker' });
      started.push(worker.service);
      const url = api.address ?? '';
      const secret = `whsec_${uniqueId('secret')}-0123456789`;
      const receiver = await startReceiver(secret, () => 200);
      try {
        const token = await tokenFor();
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        const subscribed = await fetch(`${url}/api/v1/webhooks`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ url: receiver.url, event_types: ['transaction.created'], secret }),
        });
        assert.equal(subscribed.status, 201, await subscribed.text());
        const created = await fetch(`${url}/api/v1/transactions`, {
          method: 'POST',
          headers,
          body: JSON.stringify(newTransaction(uniqueId('u'))),
        });
        assert.equal(created.status, 201, await created.clone().text());
        const transactionId = ((await created.json()) as { id: string }).id;
        const delivered = await eventually(
          () => Promise.resolve(receiver.received.find((r) => r.status === 200)),
          30_000,
        );

        const query = new URLSearchParams({
          service: 'fido-transactions',
          tags: JSON.stringify({ 'fido.transaction_id': transactionId }),
          lookback: '1h',
          limit: '20',
        });
        const topic = `${prefix}transactions.v1`;
        // spans arrive from two processes at their own pace: wait for both sides of the Kafka hop
        const trace = await eventually(async () => {
          const res = await fetch(`${jaegerEnv('JAEGER_URL')}/api/traces?${query.toString()}`);
          if (res.status !== 200) return undefined;
          const { data } = (await res.json()) as { data: JaegerTrace[] | null };
          const [only] = data ?? [];
          const names = new Set(only?.spans.map((s) => s.operationName));
          return data?.length === 1 && names.has(`send ${topic}`) && names.has(`process ${topic}`)
            ? only
            : undefined;
        }, 30_000);

        const roleOf = (span: JaegerSpan) => tag(trace.processes[span.processID]?.tags ?? [], 'fido.role');
        const producer = trace.spans.find((s) => s.operationName === `send ${topic}`);
        const consumer = trace.spans.find((s) => s.operationName === `process ${topic}`);
        assert.equal(tag(producer?.tags ?? [], 'span.kind'), 'producer');
        assert.equal(tag(producer?.tags ?? [], 'messaging.system'), 'kafka');
        assert.equal(tag(consumer?.tags ?? [], 'span.kind'), 'consumer');
        assert.ok(consumer && roleOf(consumer) === 'worker', 'the worker processed it');
        const request = trace.spans.find((s) => tag(s.tags, 'span.kind') === 'server' && roleOf(s) === 'api');
        assert.ok(request, 'the API request is in the trace');
        assert.deepEqual(new Set(trace.spans.map(roleOf)), new Set(['api', 'worker']));
        assert.ok(
          trace.spans.some((s) => s.operationName === 'deliver webhook'),
          'the webhook send is in the trace',
        );
        assert.match(
          String(delivered.headers.traceparent),
          new RegExp(`^00-${trace.traceID}-[0-9a-f]{16}-01$`),
        );
      } finally {
        await receiver.close();
      }
    },
  );
});
