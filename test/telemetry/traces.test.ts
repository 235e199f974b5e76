import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { after, before, describe, it } from 'node:test';
import { attributeTexts, startInMemoryTracing, type FinishedSpan } from './in-memory-tracing.ts';

// before the app's modules load: the instrumentations hook them as they are imported
const { exporter, tracing } = startInMemoryTracing();
const { pino } = await import('pino');
const { loggerOptions } = await import('../../src/logger.ts');
const helpers = await import('../helpers.ts');
const { startReceiver } = await import('../worker/webhook-receiver.ts');

const DISTINCTIVE_NAME = 'Zebulon Quillfeather-Traceson';
const AMOUNT = '8123.47';

after(async () => {
  await tracing.shutdown();
});

for (const setup of [
  { name: 'MongoDB, Kafka and Redis', store: 'mongodb', bus: 'kafka', redis: true },
  { name: 'the embedded default', store: 'embedded', bus: 'embedded', redis: false },
] as const) {
  describe(`one write's trace on ${setup.name}`, () => {
    const logLines: Record<string, unknown>[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
          logLines.push(JSON.parse(line));
        done();
      },
    });
    let t: Awaited<ReturnType<typeof helpers.startApp>>;
    let baseUrl: string;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let transactionId: string;
    let traceId: string;

    before(async () => {
      exporter.reset();
      t = await helpers.startApp(
        setup.store,
        {
          LOG_LEVEL: 'info',
          WEBHOOK_POLL_MS: '20',
          ...(setup.redis ? { REDIS_URL: helpers.requireEnv('REDIS_URL') } : {}),
        },
        { worker: true, bus: setup.bus, logger: pino(loggerOptions('info'), logStream) },
      );
      baseUrl = (await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
      const secret = `whsec_${helpers.uniqueId('secret')}-0123456789`;
      receiver = await startReceiver(secret, () => 200);
      const subscribed = await t.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        payload: { url: receiver.url, event_types: ['transaction.created'], secret },
      });
      assert.equal(subscribed.statusCode, 201, subscribed.body);

      const created = await fetch(`${baseUrl}/api/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await helpers.tokenFor()}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          helpers.newTransaction(helpers.uniqueId('u'), {
            full_name: DISTINCTIVE_NAME,
            transaction_amount: AMOUNT,
          }),
        ),
      });
      assert.equal(created.status, 201, await created.clone().text());
      transactionId = ((await created.json()) as { id: string }).id;
      await helpers.eventually(
        () => Promise.resolve(receiver.deliveredIds().size > 0 ? true : undefined),
        20_000,
      );
      // the trace the write's event was published in; the test below finds everything else in it
      const published = exporter
        .getFinishedSpans()
        .find((s) => s.kind === SpanKind.PRODUCER && s.attributes['fido.transaction_id'] === transactionId);
      assert.ok(published, 'no producer span names the transaction');
      traceId = published.spanContext().traceId;
    });
    after(async () => {
      await receiver.close();
      await t.close();
    });

    it('holds the request, the store, the publish, the processing and the webhook in one trace', async () => {
      // the send's span ends after the receiver answered: wait for it to be exported
      const spans = await helpers.eventually(() => {
        const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
        // the processing span ends once its batch is committed, which can be after the send
        const complete = [
          'deliver webhook',
          `process ${t.deps.config.events.topicPrefix}transactions.v1`,
        ].every((name) => inTrace.some((s) => s.name === name));
        return Promise.resolve(complete ? inTrace : undefined);
      });
      console.log(
        spans
          .map((s) => `${s.kind} ${s.name} ${s.parentSpanContext?.spanId ?? '-'} ${s.spanContext().spanId}`)
          .join('\n'),
      );
      const kinds = (kind: SpanKind) => spans.filter((s) => s.kind === kind);
      assert.ok(
        kinds(SpanKind.SERVER).some(
          (s) =>
            s.name === 'POST /api/v1/transactions' && s.attributes['http.route'] === '/api/v1/transactions',
        ),
        'the HTTP request',
      );
      assert.ok(
        spans.some(
          (s) => s.name === 'insert transaction' && s.attributes['fido.transaction_id'] === transactionId,
        ),
        'the store write',
      );
      if (setup.store === 'mongodb') {
        assert.ok(
          spans.some(
            (s) => s.attributes['db.system.name'] === 'mongodb' || s.attributes['db.system'] === 'mongodb',
          ),
          'the MongoDB commands',
        );
      }
      if (setup.redis) {
        assert.ok(
          spans.some(
            (s) => s.attributes['db.system.name'] === 'redis' || s.attributes['db.system'] === 'redis',
          ),
          'the Redis commands',
        );
      }
      const onTopic = (s: FinishedSpan) =>
        String(s.attributes['messaging.destination.name']).endsWith('transactions.v1') &&
        s.attributes['fido.transaction_id'] === transactionId;
      const producer = kinds(SpanKind.PRODUCER).find(onTopic);
      const consumer = kinds(SpanKind.CONSUMER).find(onTopic);
      assert.ok(producer, 'the relay publish');
      assert.ok(consumer, 'the worker processing');
      assert.equal(
        consumer.parentSpanContext?.spanId,
        producer.spanContext().spanId,
        'processing follows the publish',
      );
      assert.ok(
        kinds(SpanKind.CLIENT).some((s) => s.attributes['url.full'] === receiver.url),
        'the webhook POST',
      );
      const delivered = receiver.received.find((r) => r.status === 200);
      assert.match(String(delivered?.headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
    });

    it('puts no customer name and no amount in any span', () => {
      const everything = exporter.getFinishedSpans().flatMap(attributeTexts).join('\n');
      assert.ok(everything.length > 0);
      assert.ok(!everything.includes('Zebulon'), 'a customer name in a span attribute');
      assert.ok(!everything.includes('Quillfeather'), 'a customer name in a span attribute');
      assert.ok(
        !everything.includes(AMOUNT) && !everything.includes('812347'),
        'an amount in a span attribute',
      );
    });

    it('gives every log line written inside the request its trace and span ids', () => {
      const inRequest = logLines.filter((line) => line.trace_id === traceId);
      assert.ok(
        inRequest.length > 0,
        `no log line of trace ${traceId}: ${JSON.stringify(logLines.slice(0, 5))}`,
      );
      for (const line of inRequest) assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
    });
  });
}
