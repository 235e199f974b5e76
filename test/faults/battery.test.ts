import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBattery } from '../../scripts/faults/battery.ts';
import type { CaseResult } from '../../scripts/faults/case-result.ts';
import { formatCase, formatTable } from '../../scripts/faults/report.ts';
import { requireEnv } from '../helpers.ts';

// `npm run faults` with small numbers: every case of issue 9's battery, each on a fresh stack of
// 2 APIs behind a balancer and 2 workers under a steady load, Kafka down for 8 s instead of 30.
// It stops and restarts the shared test bed's servers; the battery restarts them after each case.
describe('fault battery (2 APIs, 2 workers, Kafka, Redis, MongoDB protocol; compact)', () => {
  let results: CaseResult[] = [];
  it(
    'Kafka, Redis and the store restarted, a worker SIGKILLed, every event delivered three times, an API SIGTERMed: nothing acknowledged lost, statistics exact',
    { timeout: 600_000 },
    async (t) => {
      results = await runBattery({
        servers: {
          mongodbUrl: requireEnv('MONGODB_URL'),
          redisUrl: requireEnv('REDIS_URL'),
          kafkaBrokers: requireEnv('KAFKA_BROKERS'),
        },
        settings: {
          partitions: 4,
          users: 12,
          concurrency: 6,
          warmupWrites: 40,
          tailWrites: 40,
          maxWrites: 2_000,
          maxLoadSeconds: 180,
          kafkaDownSeconds: 8,
          outageSeconds: 3,
        },
        only: [],
        progress: (line) => {
          t.diagnostic(line);
        },
        report: (result) => {
          t.diagnostic(formatCase(result));
        },
      });
      t.diagnostic(formatTable(results));
      assert.deepEqual(
        results.map((r) => r.name),
        ['kafka', 'redis', 'store', 'worker-kill', 'replay', 'api-sigterm'],
      );
      for (const result of results) {
        for (const check of result.checks) {
          assert.ok(check.ok, `${result.name}: ${check.name}: ${check.detail}`);
        }
        assert.deepEqual(result.statsDiffer, [], `${result.name}: statistics differ`);
        assert.deepEqual(result.missing, [], `${result.name}: acknowledged but missing`);
        assert.ok(result.writes.acknowledged > 80, `${result.name}: the load went on around the fault`);
        assert.ok(result.events.produced >= result.writes.acknowledged, result.name);
        for (const consumed of Object.values(result.events.consumed))
          assert.equal(consumed, result.events.produced, `${result.name}: consumed`);
        assert.ok(!Object.keys(result.failedBy).includes('500'), `${result.name}: no 500`);
      }
      const replay = results.find((r) => r.name === 'replay');
      assert.equal(Object.keys(replay?.events.consumed ?? {}).length, 3, 'three deliveries of every event');
    },
  );
});
