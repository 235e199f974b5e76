import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport } from '../../scripts/stack/report.ts';
import { runStack } from '../../scripts/stack/stack.ts';
import { requireEnv } from '../helpers.ts';

// The same run as `npm run stack:local`, with small numbers. Most of its time is the 30 s
// idempotency lock that a retry of a create cut off on the killed API waits out (SPEC: 409 while
// the first attempt may still be in flight), and the group's session timeout before the
// surviving worker takes the dead one's partitions.
describe('scale-out on one machine (2 APIs behind HAProxy, 2 workers, Kafka, MongoDB protocol)', () => {
  it(
    'one API and one worker SIGKILLed mid-load: no request lost, the surviving worker takes every partition, statistics exact',
    { timeout: 180_000 },
    async (t) => {
      const report = await runStack({
        servers: {
          mongodbUrl: requireEnv('MONGODB_URL'),
          redisUrl: requireEnv('REDIS_URL'),
          kafkaBrokers: requireEnv('KAFKA_BROKERS'),
        },
        writes: 200,
        users: 20,
        concurrency: 8,
        loadSeconds: 60,
        partitions: 4,
        killAfter: 60,
        progress: (line) => {
          t.diagnostic(line);
        },
      });
      t.diagnostic(formatReport(report));
      for (const check of report.checks) assert.ok(check.ok, `${check.name}: ${check.detail}`);
      assert.ok(report.started > 60, `the load went on after the kills (${report.started} writes)`);
      assert.equal(report.survivorPartitions.length, 4);
      assert.equal(report.statistics.reconcileDifferences, 0);
      assert.deepEqual(report.statistics.analyticsMismatches, []);
      assert.equal(report.checks.length, 11);
      assert.ok(report.ok);
    },
  );
});
