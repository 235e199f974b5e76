import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Link } from '@opentelemetry/api';
import { tracing as sdkTracing } from '@opentelemetry/sdk-node';
import { after, before, describe, it } from 'node:test';
import { writesFirstSampler } from '../../src/telemetry/writes-first-sampler.ts';
import { startInMemoryTracing } from './in-memory-tracing.ts';

// the service's default sampler with no read recorded, so every recorded span here is one the
// rules chose (before the app's modules load, so the instrumentations hook them)
const { exporter, tracing } = startInMemoryTracing(0);
const helpers = await import('../helpers.ts');

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const traceparent = (traceId: string, sampled: boolean) => `00-${traceId}-${hex(8)}-${sampled ? '01' : '00'}`;

after(async () => {
  await tracing.shutdown();
});

describe('default sampling: every write, reads at TRACES_READ_SAMPLE_RATIO', () => {
  let t: Awaited<ReturnType<typeof helpers.startApp>>;
  let auth: Record<string, string>;
  const user = helpers.uniqueId('u');
  const serverSpans = (traceId?: string) =>
    exporter
      .getFinishedSpans()
      .filter(
        (s) => s.kind === SpanKind.SERVER && (traceId === undefined || s.spanContext().traceId === traceId),
      );

  before(async () => {
    t = await helpers.startApp('embedded', {}, { worker: true, bus: 'embedded' });
    auth = { authorization: `Bearer ${await helpers.tokenFor()}` };
  });
  after(async () => {
    await t.close();
  });

  it('records a write whole (request, store, publish, processing) and no read, at ratio 0', async () => {
    exporter.reset();
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: auth,
      payload: helpers.newTransaction(user),
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json<{ id: string }>();
    const read = await t.inject({ method: 'GET', url: `/api/v1/transactions/${id}`, headers: auth });
    assert.equal(read.statusCode, 200, read.body);
    const history = await t.inject({
      method: 'GET',
      url: `/api/v1/users/${user}/transactions`,
      headers: auth,
    });
    assert.equal(history.statusCode, 200, history.body);

    const processed = await helpers.eventually(() =>
      Promise.resolve(
        exporter
          .getFinishedSpans()
          .find((s) => s.kind === SpanKind.CONSUMER && s.attributes['fido.transaction_id'] === id),
      ),
    );
    const traceId = processed.spanContext().traceId;
    const names = exporter
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === traceId)
      .map((s) => s.name);
    const topic = `${t.deps.config.events.topicPrefix}transactions.v1`;
    for (const name of [
      'POST /api/v1/transactions',
      'insert transaction',
      `send ${topic}`,
      `process ${topic}`,
    ])
      assert.ok(names.includes(name), `${name} missing from the write's trace: ${names.join(', ')}`);
    assert.deepEqual(
      serverSpans().map((s) => s.name),
      ['POST /api/v1/transactions'],
      'a read was recorded at ratio 0',
    );
  });

  it("records a read that a caller's sampled traceparent asks for, in the caller's trace", async () => {
    exporter.reset();
    const traceId = hex(16);
    const read = await t.inject({
      method: 'GET',
      url: `/api/v1/users/${user}/transactions`,
      headers: { ...auth, traceparent: traceparent(traceId, true) },
    });
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(
      serverSpans(traceId).map((s) => s.name),
      ['GET /api/v1/users/:user_id/transactions'],
    );
  });

  it("records a write under a caller's unsampled traceparent, in the caller's trace; not a read", async () => {
    exporter.reset();
    const traceId = hex(16);
    const headers = { ...auth, traceparent: traceparent(traceId, false) };
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers,
      payload: helpers.newTransaction(user),
    });
    assert.equal(created.statusCode, 201, created.body);
    const read = await t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions`, headers });
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(
      serverSpans().map((s) => [s.name, s.spanContext().traceId]),
      [['POST /api/v1/transactions', traceId]],
    );
  });
});

describe('writesFirstSampler', () => {
  const { SamplingDecision } = sdkTracing;
  const never = writesFirstSampler(0);
  const decide = (kind: SpanKind, attributes: Record<string, string>, links: Link[] = []) =>
    never.shouldSample(ROOT_CONTEXT, hex(16), 'span', kind, attributes, links).decision;
  const link = (sampled: boolean): Link => ({
    context: { traceId: hex(16), spanId: hex(8), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE },
  });

  it('records every write method of a server span, and nothing else, at ratio 0', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      assert.equal(
        decide(SpanKind.SERVER, { 'http.request.method': method }),
        SamplingDecision.RECORD_AND_SAMPLED,
        method,
      );
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      assert.equal(
        decide(SpanKind.SERVER, { 'http.request.method': method }),
        SamplingDecision.NOT_RECORD,
        method,
      );
    // a write method on a span that is not a request (an outgoing webhook POST) is no write of ours
    assert.equal(decide(SpanKind.CLIENT, { 'http.request.method': 'POST' }), SamplingDecision.NOT_RECORD);
  });

  it('records a root linked to a recorded trace (a batch serving sampled writes), not one linked to none', () => {
    assert.equal(
      decide(SpanKind.CONSUMER, {}, [link(false), link(true)]),
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    assert.equal(decide(SpanKind.CONSUMER, {}, [link(false), link(false)]), SamplingDecision.NOT_RECORD);
  });

  it("follows a local parent's decision", () => {
    const parent = (sampled: boolean) =>
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: hex(16),
        spanId: hex(8),
        traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: false,
      });
    const write = { 'http.request.method': 'POST' };
    assert.equal(
      never.shouldSample(parent(false), hex(16), 'span', SpanKind.SERVER, write, []).decision,
      SamplingDecision.NOT_RECORD,
    );
    assert.equal(
      never.shouldSample(parent(true), hex(16), 'span', SpanKind.INTERNAL, {}, []).decision,
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('records reads at the ratio, by trace id', () => {
    const tenth = writesFirstSampler(0.1);
    let recorded = 0;
    for (let i = 0; i < 10_000; i++) {
      const decision = tenth.shouldSample(
        ROOT_CONTEXT,
        hex(16),
        'GET',
        SpanKind.SERVER,
        { 'http.request.method': 'GET' },
        [],
      ).decision;
      if (decision === SamplingDecision.RECORD_AND_SAMPLED) recorded++;
    }
    // binomial(10000, 0.1): mean 1000, standard deviation 30
    assert.ok(recorded > 850 && recorded < 1150, `${recorded} of 10000 reads recorded at ratio 0.1`);
  });
});
