import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPipeline } from '../../scripts/pipeline/run.ts';
import { requireEnv } from '../helpers.ts';

/**
 * `npm run pipeline` in small: 1 API and 2 worker processes on the test bed, creates with
 * Idempotency-Keys from 4 clients. With each worker relaying only its own partitions, an event
 * is published once (at most 1.05 messages per event), and nothing acknowledged is lost.
 */
describe('the event pipeline with two workers (npm run pipeline, small)', () => {
  it('publishes each event about once and loses nothing', async () => {
    const result = await runPipeline({
      servers: {
        mongodbUrl: requireEnv('MONGODB_URL'),
        redisUrl: requireEnv('REDIS_URL'),
        kafkaBrokers: requireEnv('KAFKA_BROKERS'),
      },
      workers: 2,
      partitions: 6,
      creates: 60,
      clients: 4,
      users: 12,
      kill: false,
      say: () => undefined,
    });
    assert.deepEqual(result.lost, [], 'every acknowledged create consumed, projected and counted exactly');
    assert.equal(result.events, 60);
    assert.equal(result.distinct, 60);
    assert.ok(
      result.messages / result.events <= 1.05,
      `${result.messages} messages on the topic for ${result.events} events`,
    );
  });
});
