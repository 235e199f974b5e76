import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Link } from '@opentelemetry/api';
import { tracing as sdkTracing } from '@opentelemetry/sdk-node';
import { after, before, describe, it } from 'node:test';
import { writesFirstRequestGate, writesFirstSampler } from '../../src/telemetry/writes-first-sampler.ts';
import { startInMemoryTracing } from './in-memory-tracing.ts';

// the service's default sampler with no read recorded, so every recorded span here is one the
// rules chose (before the app's modules load, so the instrumentations hook them)
const { exporter, tracing } = startInMemoryTracing({ reads: 0, writes: 1 });
const { pino } = await import('pino');
const { loggerOptions } = await import('../../src/logger.ts');
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
  const logLines: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  const linesOf = (requestId: unknown) => logLines.filter((l) => l.reqId === requestId);
  const serverSpans = (traceId?: string) =>
    exporter
      .getFinishedSpans()
      .filter(
        (s) => s.kind === SpanKind.SERVER && (traceId === undefined || s.spanContext().traceId === traceId),
      );

  before(async () => {
    t = await helpers.startApp(
      'embedded',
      { LOG_LEVEL: 'info' },
      { worker: true, bus: 'embedded', logger: pino(loggerOptions('info'), logStream) },
    );
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

  it('opens no trace context for a read it does not record: its log line carries no trace id', async () => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: auth,
      payload: helpers.newTransaction(user),
    });
    const read = await t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions`, headers: auth });
    assert.equal(read.statusCode, 200, read.body);
    const [writeLine] = linesOf(created.headers['x-request-id']);
    const [readLine] = linesOf(read.headers['x-request-id']);
    assert.match(String(writeLine?.trace_id), /^[0-9a-f]{32}$/, 'the write is traced');
    assert.ok(readLine, 'the read has its access log line');
    assert.equal(readLine.trace_id, undefined, 'the read ran in a trace context');
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

const { SamplingDecision } = sdkTracing;
const remote = (traceId: string, sampled: boolean) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: hex(8),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
/** How many of 10,000 admitted: binomial(10000, 0.1) has mean 1000, standard deviation 30. */
const admittedOfTenThousand = (admits: () => boolean) => {
  let admitted = 0;
  for (let i = 0; i < 10_000; i++) if (admits()) admitted++;
  assert.ok(admitted > 850 && admitted < 1150, `${admitted} of 10000 admitted at ratio 0.1`);
};

describe('writesFirstRequestGate', () => {
  const never = writesFirstRequestGate({ reads: 0, writes: 1 });
  const tenth = writesFirstRequestGate({ reads: 0.1, writes: 1 });

  it('admits every write and no read, by default ratios with reads at 0', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      assert.equal(never(method, ROOT_CONTEXT), true, method);
    for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.equal(never(method, ROOT_CONTEXT), false, method);
  });

  it("admits any request a caller's sampled traceparent asks for", () => {
    assert.equal(never('GET', remote(hex(16), true)), true);
  });

  it("admits reads at the ratio: by the caller's trace id as the SDK's ratio sampler decides, else at random", () => {
    const sdkRatio = new sdkTracing.TraceIdRatioBasedSampler(0.1);
    for (let i = 0; i < 1_000; i++) {
      const traceId = hex(16);
      assert.equal(
        tenth('GET', remote(traceId, false)),
        sdkRatio.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED,
        traceId,
      );
    }
    admittedOfTenThousand(() => tenth('GET', remote(hex(16), false)));
    admittedOfTenThousand(() => tenth('GET', ROOT_CONTEXT));
  });

  it('admits writes at their own ratio (TRACES_WRITE_SAMPLE_RATIO), reads at theirs', () => {
    const noWrites = writesFirstRequestGate({ reads: 1, writes: 0 });
    assert.equal(noWrites('POST', ROOT_CONTEXT), false);
    assert.equal(noWrites('POST', remote(hex(16), false)), false);
    assert.equal(noWrites('POST', remote(hex(16), true)), true, "a caller's sampled trace stays whole");
    assert.equal(noWrites('GET', ROOT_CONTEXT), true);
    const tenthOfWrites = writesFirstRequestGate({ reads: 0, writes: 0.1 });
    admittedOfTenThousand(() => tenthOfWrites('DELETE', ROOT_CONTEXT));
    admittedOfTenThousand(() => tenthOfWrites('PUT', remote(hex(16), false)));
  });
});

describe('writesFirstSampler', () => {
  const never = writesFirstSampler(0);
  const decide = (kind: SpanKind, attributes: Record<string, string>, links: Link[] = []) =>
    never.shouldSample(ROOT_CONTEXT, hex(16), 'span', kind, attributes, links).decision;
  const link = (sampled: boolean): Link => ({
    context: { traceId: hex(16), spanId: hex(8), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE },
  });

  it('records a server span (the gate admitted its request), and no other root, at ratio 0', () => {
    assert.equal(
      decide(SpanKind.SERVER, { 'http.request.method': 'GET' }),
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    // a write method on a span that is not a request (an outgoing webhook POST) is no write of ours
    assert.equal(decide(SpanKind.CLIENT, { 'http.request.method': 'POST' }), SamplingDecision.NOT_RECORD);
    assert.equal(decide(SpanKind.CONSUMER, {}), SamplingDecision.NOT_RECORD);
  });

  it('records a root linked to a recorded trace (a batch serving sampled writes), not one linked to none', () => {
    assert.equal(
      decide(SpanKind.CONSUMER, {}, [link(false), link(true)]),
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    assert.equal(decide(SpanKind.CONSUMER, {}, [link(false), link(false)]), SamplingDecision.NOT_RECORD);
  });

  it("records, under a caller's unsampled traceparent, the request the gate admitted, and nothing else", () => {
    const unsampledCaller = remote(hex(16), false);
    const decideUnder = (kind: SpanKind) =>
      never.shouldSample(unsampledCaller, hex(16), 'span', kind, {}, []).decision;
    assert.equal(decideUnder(SpanKind.SERVER), SamplingDecision.RECORD_AND_SAMPLED);
    // a message of a write that was not recorded: its processing is not either
    assert.equal(decideUnder(SpanKind.CONSUMER), SamplingDecision.NOT_RECORD);
    assert.equal(decideUnder(SpanKind.INTERNAL), SamplingDecision.NOT_RECORD);
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

  it('records other roots (a message without a context) at the ratio', () => {
    const tenth = writesFirstSampler(0.1);
    admittedOfTenThousand(
      () =>
        tenth.shouldSample(ROOT_CONTEXT, hex(16), 'process', SpanKind.CONSUMER, {}, []).decision ===
        SamplingDecision.RECORD_AND_SAMPLED,
    );
  });
});
