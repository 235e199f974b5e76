/**
 * How many times a cached read writes to Redis: the service in-process on the test bed (MongoDB
 * protocol store, Redis cache), one user's analytics read until cached, then 50 more reads while
 * every flush of a socket to Redis is counted (one `_write`, or one `_writev` of commands corked
 * together, is one write to the kernel and one round trip). Prints the count per read.
 *   MONGODB_URL=... REDIS_URL=redis://127.0.0.1:16379 node scripts/bench/redis-round-trips.ts
 */
import net from 'node:net';
import { newTransaction, startApp, uniqueId } from '../../test/helpers.ts';

const REDIS_PORT = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379').port);

const t = await startApp('mongodb', { REDIS_URL: process.env.REDIS_URL ?? '', ANALYTICS_WAIT_MS: '0' });
const user = uniqueId('rt');
await t.inject({ method: 'POST', url: '/api/v1/transactions', payload: newTransaction(user) });
const url = `/api/v1/users/${user}/analytics`;
await t.inject({ method: 'GET', url });
await t.inject({ method: 'GET', url });
let writes = 0;
let bytes = 0;
// a flush to the kernel: one _write (one chunk) or one _writev (chunks corked together)
const proto = net.Socket.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const originals = { _write: proto._write, _writev: proto._writev };
for (const name of ['_write', '_writev'] as const) {
  const original = originals[name];
  proto[name] = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === REDIS_PORT) {
      writes += 1;
      bytes += name === '_writev' ? (args[0] as unknown[]).length : 1;
    }
    return original?.apply(this, args);
  };
}
const n = 50;
for (let i = 0; i < n; i++) {
  const res = await t.inject({ method: 'GET', url });
  if (res.statusCode !== 200) throw new Error(res.body);
}
const hits = t.deps.metrics.get('cache_hits_total');
process.stdout.write(
  `cached reads ${n}: flushes to Redis ${writes} (${(writes / n).toFixed(2)} per read), chunks ${bytes}, hits ${hits}\n`,
);
await t.close();
