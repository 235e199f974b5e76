import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { eventually, requireEnv, uniqueId } from '../helpers.ts';

/** What Jaeger's query API (`GET /api/traces`) answers, as far as this test reads it. */
interface JaegerTraces {
  readonly data: readonly {
    readonly traceID: string;
    readonly spans: readonly {
      readonly spanID: string;
      readonly operationName: string;
      readonly tags: readonly { readonly key: string; readonly value: unknown }[];
    }[];
  }[];
}

const SERVICE = 'testbed-jaeger-test';

/** One span by OTLP/HTTP JSON, as an OpenTelemetry SDK's exporter posts it. */
async function postSpan(name: string, attributes: Record<string, string>): Promise<{ traceId: string }> {
  const traceId = randomBytes(16).toString('hex');
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const res = await fetch(`${requireEnv('TESTBED_OTLP_ENDPOINT')}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
          scopeSpans: [
            {
              scope: { name: 'jaeger.test.ts' },
              spans: [
                {
                  traceId,
                  spanId: randomBytes(8).toString('hex'),
                  name,
                  kind: 2,
                  startTimeUnixNano: String(startNs),
                  endTimeUnixNano: String(startNs + 5_000_000n),
                  attributes: Object.entries(attributes).map(([key, value]) => ({
                    key,
                    value: { stringValue: value },
                  })),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  assert.equal(res.status, 200, await res.text());
  return { traceId };
}

/** The traces of SERVICE whose spans carry all `tags`, over the last minute. */
async function findTraces(tags: Record<string, string>): Promise<JaegerTraces['data']> {
  const endUs = Date.now() * 1000 + 1_000_000;
  const query = new URLSearchParams({
    service: SERVICE,
    tags: JSON.stringify(tags),
    start: String(endUs - 60_000_000),
    end: String(endUs),
    limit: '20',
  });
  const res = await fetch(`${requireEnv('JAEGER_URL')}/api/traces?${query.toString()}`);
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as JaegerTraces).data;
}

/** The test bed's Jaeger is real: what goes in by OTLP comes out of its query API. */
describe('test bed Jaeger', () => {
  it('a span posted by OTLP/HTTP is found by its tag through the query API', async () => {
    const run = uniqueId('run');
    const name = uniqueId('span');
    const mine = await postSpan(name, { 'test.run': run, 'test.role': 'wanted' });
    // another span of the same service with another run: the tag filter must leave it out
    await postSpan(uniqueId('other'), { 'test.run': uniqueId('run'), 'test.role': 'decoy' });

    const traces = await eventually(async () => {
      const found = await findTraces({ 'test.run': run });
      return found.length > 0 ? found : undefined;
    }, 15_000);

    assert.deepEqual(
      // Jaeger drops leading zeros of a trace id
      traces.map((t) => t.traceID.padStart(32, '0')),
      [mine.traceId],
    );
    const spans = traces[0]?.spans ?? [];
    assert.equal(spans.length, 1);
    const [span] = spans;
    assert.ok(span);
    assert.equal(span.operationName, name);
    const tags = new Map(span.tags.map((tag) => [tag.key, tag.value]));
    assert.equal(tags.get('test.run'), run);
    assert.equal(tags.get('test.role'), 'wanted');
  });
});
