import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { loggerOptions } from '../../src/logger.ts';
import {
  TEST_ENCRYPTION_KEYS,
  TEST_JWT_SECRET,
  newTransaction,
  startApp,
  tokenFor,
  uniqueId,
  type TestApp,
} from '../helpers.ts';

/**
 * The service at its most verbose, driven through every route and failure a client can cause;
 * then the whole captured log is searched for what must never be written down (SPEC: no log
 * line carries a full name in clear; credentials and key material never appear).
 */
describe('log hygiene at trace level', () => {
  const lines: string[] = [];
  const logger = pino(loggerOptions('trace'), { write: (line: string) => lines.push(line) });
  const REDIS_PASSWORD = 'redis-password-never-logged';
  const NAME = `Zephyrine ${uniqueId('Quaglietta')}`;
  const user = uniqueId('u');
  const responses: LightMyRequestResponse[] = [];
  const tokens: string[] = [];
  let t: TestApp;

  before(async () => {
    // a Redis that is down, with credentials in its URL: the fail-open warnings are logged too
    t = await startApp('embedded', { REDIS_URL: `redis://fido:${REDIS_PASSWORD}@127.0.0.1:1` }, { logger });
  });
  after(async () => {
    await t.close();
  });

  it('writes no name, token, secret or key, and ties every request line to its request id', async () => {
    const own = await tokenFor({ sub: user, scope: 'transactions:read transactions:write' });
    const service = await tokenFor();
    const expired = await tokenFor({ sub: user, expiresIn: -120 });
    tokens.push(own, service, expired);
    const as = (token: string, extra: Record<string, string> = {}) => ({
      authorization: `Bearer ${token}`,
      ...extra,
    });
    const send = async (options: InjectOptions) => {
      const res = await t.app.inject(options);
      responses.push(res);
      return res;
    };

    const created = await send({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: as(own, { 'idempotency-key': uniqueId('idem') }),
      payload: newTransaction(user, { full_name: NAME }),
    });
    assert.equal(created.statusCode, 201);
    const id = created.json().id as string;
    const second = await send({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: as(own),
      payload: newTransaction(user, { full_name: `${NAME} II` }),
    });
    const secondId = second.json().id as string;

    await send({ method: 'GET', url: `/api/v1/transactions/${id}`, headers: as(own) });
    await send({
      method: 'PUT',
      url: `/api/v1/transactions/${id}`,
      headers: as(own, { 'if-match': '"1"' }),
      payload: { ...newTransaction(user, { full_name: `${NAME} Jr` }), user_id: undefined },
    });
    await send({
      method: 'PATCH',
      url: `/api/v1/transactions/${id}`,
      headers: as(own, { 'content-type': 'application/merge-patch+json' }),
      payload: JSON.stringify({ full_name: `${NAME} Sr` }),
    });
    await send({ method: 'GET', url: `/api/v1/users/${user}/transactions`, headers: as(own) });
    await send({ method: 'GET', url: `/api/v1/transactions/${id}/versions`, headers: as(service) });

    // failures a client can cause, each carrying the name or a credential
    await send({ method: 'GET', url: `/api/v1/transactions/${id}`, headers: as(expired) });
    await send({ method: 'GET', url: `/api/v1/transactions/${id}`, headers: as(`${own}x`) });
    await send({ method: 'GET', url: `/api/v1/transactions/${id}`, headers: { authorization: own } });
    const invalid = await send({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: as(own),
      payload: { ...newTransaction(user, { full_name: NAME.repeat(20) }), nickname: NAME, amount: -1 },
    });
    assert.equal(invalid.statusCode, 422);
    const malformed = await send({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: as(own, { 'content-type': 'application/json' }),
      payload: `{"user_id": "${user}", "full_name": ${NAME}}`,
    });
    assert.equal(malformed.statusCode, 400);

    // stored data that fails authentication: a 500 the service logs as such
    const db = new DatabaseSync(join(t.dataDir, 'fido.sqlite'));
    const row = db.prepare('SELECT full_name FROM transactions WHERE id = ?').get(secondId) as {
      full_name: string;
    };
    db.prepare('UPDATE transactions SET full_name = ? WHERE id = ?').run(row.full_name, id);
    db.close();
    assert.equal(
      (await send({ method: 'GET', url: `/api/v1/transactions/${id}`, headers: as(own) })).statusCode,
      500,
    );
    await send({ method: 'DELETE', url: `/api/v1/transactions/${secondId}`, headers: as(own) });

    await t.app.close(); // flushes the last response lines
    const log = lines.join('');
    const forbidden: Record<string, string> = {
      'the full name': NAME.split(' ')[1] ?? NAME,
      'a Bearer credential': 'Bearer ',
      'the JWT secret': TEST_JWT_SECRET,
      'the encryption keys': TEST_ENCRYPTION_KEYS,
      'the encryption key material': TEST_ENCRYPTION_KEYS.split(':')[1] ?? '',
      'the Redis password': REDIS_PASSWORD,
    };
    for (const [i, token] of tokens.entries()) {
      forbidden[`token ${i}`] = token;
      forbidden[`token ${i} signature`] = token.split('.')[2] ?? token;
    }
    for (const [what, text] of Object.entries(forbidden)) {
      assert.equal(log.includes(text), false, `the log holds ${what}`);
    }

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = entries.filter((e) => 'req' in e || 'res' in e || 'reqId' in e);
    const completed = entries.filter((e) => e.msg === 'request completed');
    assert.ok(completed.length >= responses.length, 'one access line for each request');
    for (const entry of completed) {
      const res = entry.res as { statusCode?: unknown } | undefined;
      assert.equal(typeof res?.statusCode, 'number', `status in ${JSON.stringify(entry)}`);
      assert.equal(typeof entry.responseTime, 'number');
    }
    for (const entry of entries.filter((e) => 'req' in e || 'res' in e)) {
      assert.equal(typeof entry.reqId, 'string', `no reqId on ${JSON.stringify(entry)}`);
    }
    const logged = new Set(requestLines.map((e) => e.reqId));
    for (const res of responses)
      assert.ok(logged.has(res.headers['x-request-id']), 'response id is in the log');
    const warnings = entries.filter((e) => e.level === 40 && 'reqId' in e);
    assert.ok(warnings.length >= 1, 'the request that found Redis down says so');
    const errors = entries.filter((e) => typeof e.level === 'number' && e.level >= 50);
    assert.ok(errors.length >= 1, 'the integrity failure is logged');
    for (const entry of errors) assert.equal(typeof entry.reqId, 'string');

    // and no error response echoes the name (only transaction responses may carry it)
    for (const res of [invalid, malformed])
      assert.equal(res.body.includes(NAME.split(' ')[1] ?? NAME), false);
  });
});
