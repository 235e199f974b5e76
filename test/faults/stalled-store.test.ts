import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newTransaction, requireEnv, startApp, uniqueId, type TestApp } from '../helpers.ts';
import { startStallingProxy, type StallingProxy } from './stalling-proxy.ts';

/**
 * A store that accepts connections but stops answering (a hung server, a dead network path): the
 * service on a proxy that holds every byte. Every store operation has a deadline
 * (MONGODB_OPERATION_TIMEOUT_MS), so requests answer 503 with Retry-After within it instead of
 * waiting on the socket, and the service serves again once the bytes flow. The test bed's servers
 * are never stopped.
 */
const DEADLINE_MS = 1_500;
/** Scheduling on a loaded 2-core machine; far below the 10 s the socket alone would take. */
const SLACK_MS = 3_000;

describe('a stalled store (MongoDB protocol through a proxy that stops forwarding)', () => {
  let proxy: StallingProxy;
  let service: TestApp;
  const user = uniqueId('stall-user');

  before(async () => {
    const server = new URL(requireEnv('MONGODB_URL'));
    proxy = await startStallingProxy({ host: server.hostname, port: Number(server.port) });
    service = await startApp('mongodb', {
      MONGODB_URL: `mongodb://127.0.0.1:${proxy.port}/`,
      MONGODB_OPERATION_TIMEOUT_MS: String(DEADLINE_MS),
    });
  });

  after(async () => {
    proxy.resume();
    await service.close();
    await proxy.close();
  });

  const create = (key?: string) =>
    service.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: key === undefined ? {} : { 'idempotency-key': key },
      payload: newTransaction(user),
    });

  it('answers 503 with Retry-After within the deadline while stalled, then serves again', async () => {
    const first = await create();
    assert.equal(first.statusCode, 201, first.body);
    const id = first.json<{ id: string }>().id;

    proxy.stall();
    for (const request of [
      () => create(uniqueId('key')),
      () => create(),
      () => service.inject({ method: 'GET', url: `/api/v1/transactions/${id}` }),
      () => service.inject({ method: 'GET', url: '/health/ready' }),
    ]) {
      const started = performance.now();
      const answer = await request();
      const tookMs = performance.now() - started;
      assert.equal(answer.statusCode, 503, answer.body);
      assert.ok(answer.headers['retry-after'], 'a 503 says when to retry');
      assert.ok(tookMs < DEADLINE_MS + SLACK_MS, `answered after ${Math.round(tookMs)} ms`);
    }

    proxy.resume();
    const second = await eventually(async () => {
      const answer = await create();
      return answer.statusCode === 201 ? answer : undefined;
    }, 30_000);
    const secondId = second.json<{ id: string }>().id;
    const read = await service.inject({ method: 'GET', url: `/api/v1/transactions/${secondId}` });
    assert.equal(read.statusCode, 200, read.body);
    const ready = await eventually(async () => {
      const answer = await service.inject({ method: 'GET', url: '/health/ready' });
      return answer.statusCode === 200 ? answer : undefined;
    }, 30_000);
    assert.equal(ready.statusCode, 200);
  });
});

describe('the worker behind a stalled store (relay and projector loops)', () => {
  let proxy: StallingProxy;
  let service: TestApp;

  before(async () => {
    const server = new URL(requireEnv('MONGODB_URL'));
    proxy = await startStallingProxy({ host: server.hostname, port: Number(server.port) });
    service = await startApp(
      'mongodb',
      {
        MONGODB_URL: `mongodb://127.0.0.1:${proxy.port}/`,
        MONGODB_OPERATION_TIMEOUT_MS: String(DEADLINE_MS),
      },
      { worker: true, bus: 'kafka' },
    );
  });

  after(async () => {
    proxy.resume();
    await service.close();
    await proxy.close();
  });

  const create = (user: string) =>
    service.inject({ method: 'POST', url: '/api/v1/transactions', payload: newTransaction(user) });
  /** Transactions in the user's saved statistics, once nothing of theirs is pending. */
  const projected = async (user: string) => {
    const { stats } = service.deps.storage;
    if (await stats.hasPending(user)) return undefined;
    const saved = await stats.read(user);
    let count = 0;
    for (const day of saved?.days.values() ?? []) {
      for (const c of Object.values(day.currencies)) count += c.creditCount + c.debitCount;
    }
    return count;
  };

  it('relays and projects again once the store answers', async () => {
    const before = uniqueId('stall-before');
    const afterwards = uniqueId('stall-after');
    assert.equal((await create(before)).statusCode, 201);
    assert.equal(
      await eventually(() => projected(before), 30_000),
      1,
      'the worker projects before the stall',
    );
    proxy.stall();
    // the relay and the consumer poll the store meanwhile; each operation ends at its deadline
    assert.equal((await create(before)).statusCode, 503);
    proxy.resume();
    await eventually(async () => ((await create(afterwards)).statusCode === 201 ? true : undefined), 30_000);
    // (the write answered 503 may have left a marker whose commit never came: `before` is not
    // checked again, the relay drops such a marker only after a minute)
    assert.equal(await eventually(() => projected(afterwards), 60_000), 1);
  });
});
