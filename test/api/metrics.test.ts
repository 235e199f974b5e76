import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { topicsFor } from '../../src/events/transaction-events.ts';
import { buildOpsApp } from '../../src/http/ops-app.ts';
import { startReceiver, type Receiver } from '../worker/webhook-receiver.ts';
import { eventually, newTransaction, requireEnv, startApp, uniqueId, type TestApp } from '../helpers.ts';

/**
 * A short run of the whole service (API and worker on MongoDB, Kafka and Redis, webhooks to real
 * receivers on loopback), then one scrape: every family an operator alerts on is there, with
 * the values that run must have produced.
 */

/** `name{labels}` → value, as the text format writes them. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include every `label="value"` given. */
function total(samples: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const [sampleName, rest = ''] = key.split('{');
    if (sampleName === name && labels.every((l) => rest.includes(l))) sum += value;
  }
  return sum;
}

const FAMILIES = [
  'fido_http_request_duration_seconds',
  'fido_outbox_backlog',
  'fido_outbox_publish_lag_seconds',
  'fido_outbox_published_total',
  'fido_outbox_first_published_total',
  'fido_outbox_quarantined_total',
  'fido_outbox_relay_operations_total',
  'fido_outbox_relay_backlog',
  'fido_outbox_relay_partitions',
  'fido_consumer_lag_messages',
  'fido_events_processed_total',
  'fido_events_dead_lettered_total',
  'fido_cache_reads_total',
  'fido_cache_errors_total',
  'fido_cache_refreshes_total',
  'fido_alerts_raised_total',
  'fido_webhook_deliveries_total',
  'fido_reconciliation_repairs_total',
  'process_cpu_user_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
];

describe('GET /metrics after a short run', () => {
  let t: TestApp;
  const receivers: Receiver[] = [];
  before(async () => {
    t = await startApp(
      'mongodb',
      {
        REDIS_URL: requireEnv('REDIS_URL'),
        WEBHOOK_BACKOFF_BASE_MS: '50',
        WEBHOOK_BACKOFF_MAX_MS: '100',
        WEBHOOK_RETRY_FOR_MS: '1000',
        WEBHOOK_POLL_MS: '20',
      },
      { worker: true, bus: 'kafka' },
    );
  });
  after(async () => {
    const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
    await client.db(t.database).dropDatabase();
    await client.close();
    await t.close();
    for (const receiver of receivers) await receiver.close();
  });

  it('shows every family, labelled by route template, with the counts of the run', async () => {
    // one receiver that accepts, one that always fails (dead-lettered after WEBHOOK_RETRY_FOR_MS)
    for (const status of [204, 500]) {
      const secret = `whsec_${uniqueId('secret')}-0123456789`;
      const receiver = await startReceiver(secret, () => status);
      receivers.push(receiver);
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        payload: { url: receiver.url, event_types: ['transaction.*', 'alert.raised'], secret },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const user = uniqueId('u');
    const ids: string[] = [];
    // the last one is above the large-transaction threshold (GHS 5000): one alert
    for (const amount of ['10.00', '20.00', '30.00', '6000.00']) {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(user, { transaction_amount: amount }),
      });
      assert.equal(res.statusCode, 201);
      ids.push(res.json().id as string);
    }
    const [first] = ids;
    assert.ok(first !== undefined);
    assert.equal((await t.inject({ method: 'GET', url: `/api/v1/transactions/${first}` })).statusCode, 200);
    // a malformed event goes to the dead-letter topic
    const topics = topicsFor(t.deps.config.events.topicPrefix);
    await t.deps.bus.publish([{ topic: topics.transactions, key: user, value: '{"oops":true}' }]);
    // statistics drifted behind the service's back: the reconciliation repairs them
    await eventually(async () => ((await t.deps.storage.stats.hasPending(user)) ? undefined : true), 30_000);
    await t.deps.storage.stats.saveDays(
      user,
      new Map([['2031-01-01', { count: 9, currencies: {} }]]),
      new Date(),
    );
    assert.ok(t.worker);
    assert.ok((await t.worker.reconcile()) >= 1);

    const scrape = async () => {
      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      return res.body;
    };
    // everything the worker does in the background has happened
    await eventually(async () => {
      const body = await scrape();
      const s = parse(body);
      const done =
        total(s, 'fido_events_processed_total') >= ids.length &&
        total(s, 'fido_events_dead_lettered_total') >= 1 &&
        total(s, 'fido_alerts_raised_total') >= 1 &&
        total(s, 'fido_webhook_deliveries_total', 'outcome="delivered"') >= ids.length &&
        total(s, 'fido_webhook_deliveries_total', 'outcome="dead_lettered"') >= 1 &&
        total(s, 'fido_outbox_backlog') === 0 &&
        total(s, 'fido_consumer_lag_messages') === 0;
      return done ? true : undefined;
    }, 30_000);
    // the worker's projections invalidate the user's cache entries: read until a read hits
    await eventually(async () => {
      const history = await t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions` });
      assert.equal(history.statusCode, 200);
      return t.deps.metrics.get('cache_hits_total') > 0 ? true : undefined;
    }, 30_000);
    // the lag gauge is read from Kafka at each scrape (bounded at 2 s): one slow read leaves it empty
    const lagSeriesOf = (body: string) =>
      [...parse(body).keys()].filter((k) => k.startsWith('fido_consumer_lag_messages{'));
    const text = await eventually(async () => {
      const body = await scrape();
      return lagSeriesOf(body).length > 0 ? body : undefined;
    }, 30_000);

    for (const family of FAMILIES) {
      assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), family);
    }
    const s = parse(text);
    const count = 'fido_http_request_duration_seconds_count';
    assert.equal(
      total(s, count, 'route="/api/v1/transactions"', 'method="POST"', 'status="201"'),
      ids.length,
    );
    assert.equal(total(s, count, 'route="/api/v1/transactions/:id"', 'method="GET"', 'status="200"'), 1);
    assert.ok(total(s, count, 'route="/api/v1/users/:user_id/transactions"') >= 2);
    for (const id of [...ids, user]) assert.ok(!text.includes(id), `no raw URL in a label (${id})`);
    assert.ok(total(s, 'fido_outbox_published_total') >= ids.length);
    // one worker: it relays every partition, and no event went out twice
    assert.equal(total(s, 'fido_outbox_first_published_total'), total(s, 'fido_outbox_published_total'));
    assert.equal(total(s, 'fido_outbox_relay_partitions'), 3);
    assert.equal(total(s, 'fido_outbox_relay_backlog'), 0);
    assert.equal(total(s, 'fido_outbox_quarantined_total'), 0);
    // a poll that finds events reads the markers once and marks them once: at most 2 per event
    const relayOperations = total(s, 'fido_outbox_relay_operations_total', 'poll="found"');
    assert.ok(relayOperations > 0 && relayOperations <= 2 * total(s, 'fido_outbox_published_total'));
    assert.ok(total(s, 'fido_outbox_publish_lag_seconds_count') >= ids.length);
    // one series per partition of transactions.v1 this worker owns (KAFKA_PARTITIONS=3 in tests)
    const lagSeries = lagSeriesOf(text);
    assert.equal(lagSeries.length, 3, lagSeries.join(', '));
    assert.ok(lagSeries.every((k) => k.includes(`topic="${topics.transactions}"`)));
    assert.ok(total(s, 'fido_cache_reads_total', 'result="hit"') >= 1);
    assert.ok(total(s, 'fido_cache_reads_total', 'result="miss"') >= 1);
    assert.equal(total(s, 'fido_cache_errors_total'), 0);
    assert.ok(total(s, 'fido_webhook_deliveries_total', 'outcome="failed_attempt"') >= 2);
    assert.ok(total(s, 'fido_reconciliation_repairs_total') >= 1);
    assert.ok(total(s, 'process_cpu_user_seconds_total') > 0);
  });

  it('the worker role serves the same health and metrics on its own listener', async () => {
    const ops = await buildOpsApp(t.deps);
    try {
      const live = await ops.inject({ method: 'GET', url: '/health/live' });
      assert.equal(live.statusCode, 200);
      const ready = await ops.inject({ method: 'GET', url: '/health/ready' });
      assert.equal(ready.json().status, 'ready');
      const metrics = await ops.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      assert.match(metrics.body, /^fido_events_processed_total \d+$/m);
      assert.equal((await ops.inject({ method: 'GET', url: '/api/v1/webhooks' })).statusCode, 404);
    } finally {
      await ops.close();
    }
  });
});
