import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('defaults to the embedded role-all service on port 3000', () => {
    const config = loadConfig({});
    assert.equal(config.role, 'all');
    assert.equal(config.port, 3000);
    assert.equal(config.mongodb, undefined);
    assert.equal(config.defaultCurrency, 'GHS');
    assert.ok(Object.isFrozen(config));
  });

  it('parses server URLs and broker lists', () => {
    const config = loadConfig({
      MONGODB_URL: 'mongodb://127.0.0.1:37017/fido',
      KAFKA_BROKERS: 'a:9092,b:9093',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    assert.deepEqual(config.kafkaBrokers, ['a:9092', 'b:9093']);
    assert.equal(config.mongodb?.url, 'mongodb://127.0.0.1:37017/fido');
    assert.equal(
      config.mongodb.operationTimeoutMs,
      10_000,
      'every store operation has a deadline by default',
    );
  });

  it('names every bad variable with what it expects', () => {
    assert.throws(
      () => loadConfig({ PORT: '70000', KAFKA_BROKERS: 'nohost', LOG_LEVEL: 'loud' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems.map((p) => p.split('=')[0]).sort(), [
          'KAFKA_BROKERS',
          'LOG_LEVEL',
          'PORT',
        ]);
        return true;
      },
    );
  });

  it('refuses a shutdown withdrawal as long as the whole shutdown bound', () => {
    assert.throws(
      () => loadConfig({ SHUTDOWN_WITHDRAW_MS: '10000', SHUTDOWN_TIMEOUT_MS: '10000' }),
      /SHUTDOWN_WITHDRAW_MS=10000 is invalid: expected less than SHUTDOWN_TIMEOUT_MS/,
    );
    assert.equal(loadConfig({ SHUTDOWN_WITHDRAW_MS: '2000' }).shutdownWithdrawMs, 2000);
  });

  it('takes sample ratios between 0 and 1: 1% of reads and every write by default', () => {
    assert.deepEqual(loadConfig({}).traceSampleRatios, { reads: 0.01, writes: 1 });
    assert.deepEqual(
      loadConfig({ TRACES_READ_SAMPLE_RATIO: '0.25', TRACES_WRITE_SAMPLE_RATIO: '0.05' }).traceSampleRatios,
      { reads: 0.25, writes: 0.05 },
    );
    for (const name of ['TRACES_READ_SAMPLE_RATIO', 'TRACES_WRITE_SAMPLE_RATIO'])
      for (const bad of ['1.5', '-0.1', 'all'])
        assert.throws(
          () => loadConfig({ [name]: bad }),
          new RegExp(`${name}=.* is invalid: expected share of`),
          `${name}=${bad}`,
        );
  });
});
