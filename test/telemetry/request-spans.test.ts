import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startInMemoryTracing } from './in-memory-tracing.ts';

// every read recorded, so each request below has its span; started before Fastify is created,
// so the new instance is announced to the tracing and traced from its first hook
const { exporter, tracing } = startInMemoryTracing();
const { default: Fastify } = await import('fastify');
const { eventually } = await import('../helpers.ts');

describe("a request's server span", () => {
  const app = Fastify();
  app.get('/items/:id', () => ({ ok: true }));
  app.get('/boom', () => {
    throw new Error('the store fell over');
  });
  app.get('/health/live', () => 'ok');
  // spans reach the exporter once the resource's detected attributes are in: wait for them
  const serverSpans = () =>
    eventually(() => {
      const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
      return Promise.resolve(spans.length > 0 ? spans : undefined);
    });

  before(async () => {
    await app.ready();
  });
  beforeEach(() => {
    exporter.reset();
  });
  after(async () => {
    await app.close();
    await tracing.shutdown();
  });

  it('is named by method and route template, with the path but not the query', async () => {
    const res = await app.inject({ method: 'GET', url: '/items/7?cursor=abc' });
    assert.equal(res.statusCode, 200);
    const [span, ...others] = await serverSpans();
    assert.ok(span, 'no server span');
    assert.equal(others.length, 0);
    assert.equal(span.name, 'GET /items/:id');
    assert.deepEqual(span.attributes, {
      'http.request.method': 'GET',
      'url.path': '/items/7',
      'http.route': '/items/:id',
      'http.response.status_code': 200,
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it("continues a caller's traceparent", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    await app.inject({
      method: 'GET',
      url: '/items/8',
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
    });
    const [span] = await serverSpans();
    assert.equal(span?.spanContext().traceId, traceId);
    assert.equal(span.parentSpanContext?.spanId, parentId);
  });

  it('marks a 5xx as an error, with the exception that caused it', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(res.statusCode, 500);
    const [span] = await serverSpans();
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'the store fell over');
    assert.equal(span.attributes['http.response.status_code'], 500);
    assert.deepEqual(
      span.events.map((e) => [e.name, e.attributes?.['exception.message']]),
      [['exception', 'the store fell over']],
    );
  });

  it('leaves a 4xx unset (the caller erred) and names an unmatched request by its method alone', async () => {
    const res = await app.inject({ method: 'GET', url: '/nowhere/at/all' });
    assert.equal(res.statusCode, 404);
    const [span] = await serverSpans();
    assert.equal(span?.name, 'GET');
    assert.equal(span.attributes['http.route'], undefined);
    assert.equal(span.attributes['http.response.status_code'], 404);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it('is not made for health probes', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/live' });
    assert.equal(res.statusCode, 200);
    // a request after it: once its span is in, the probe's would be too
    await app.inject({ method: 'GET', url: '/items/9' });
    assert.deepEqual(
      (await serverSpans()).map((s) => s.attributes['url.path']),
      ['/items/9'],
    );
  });
});
