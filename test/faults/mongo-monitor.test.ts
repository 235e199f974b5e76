import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { watchMonitor, type MonitorWatchdog } from '../../src/adapters/mongo/mongo-monitor-watchdog.ts';
import { poll } from '../../scripts/stack/wait.ts';
import { requireEnv, uniqueId } from '../helpers.ts';

/**
 * The watchdog of src/adapters/mongo/mongo-monitor-watchdog.ts on a real driver and server. The stall
 * it exists for (a driver race when the server closes every connection at once) cannot be caused
 * on demand, so here a loopback proxy holds the server's answers back for longer than the bound
 * the watchdog is given, which the check outlives in the same way.
 */
describe('MongoDB monitor watchdog (driver and MongoDB-protocol server, through a delaying proxy)', () => {
  let proxy: DelayingProxy;
  let client: MongoClient;
  let watchdog: MonitorWatchdog;
  const seen = { stalls: 0, reconnected: 0, topologies: 0 };

  before(async () => {
    proxy = await startDelayingProxy(new URL(requireEnv('MONGODB_URL')));
    client = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/`, {
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 5_000,
      heartbeatFrequencyMS: 500,
    });
    client.on('topologyOpening', () => seen.topologies++);
    await client.connect();
    // the bound of one check (1 s, 1.5 s if awaited), made far shorter than the driver's own socket
    // timeout (5 s), yet wide enough that a loaded machine's slow check is not taken for a stall
    watchdog = watchMonitor(client, {
      connectTimeoutMS: 600,
      heartbeatFrequencyMS: 500,
      marginMs: 400,
      onStall: () => seen.stalls++,
      onReconnected: () => seen.reconnected++,
      onError: () => undefined,
    });
  });

  after(async () => {
    await watchdog.stop();
    await client.close();
    await proxy.close();
  });

  it('leaves a client whose checks end in time alone', async () => {
    const collection = client.db(uniqueId('watchdog')).collection('probe');
    await collection.insertOne({ at: 1 });
    await sleep(2_000); // four checks at 500 ms
    assert.deepEqual(seen, { stalls: 0, reconnected: 0, topologies: 1 });
  });

  it('reconnects a client whose check outlives its bound, and the client works again', async () => {
    proxy.delayMs = 3_000;
    await poll(() => seen.stalls > 0, 10_000, 'a stalled check noticed');
    proxy.delayMs = 0;
    await poll(() => seen.reconnected > 0, 15_000, 'the client reconnected');
    assert.ok(seen.topologies >= 2, `a new topology (monitor and pool) was opened: ${seen.topologies}`);
    const collection = client.db(uniqueId('watchdog')).collection('probe');
    await collection.insertOne({ at: 2 });
    assert.equal(await collection.countDocuments({}), 1);
  });
});

interface DelayingProxy {
  readonly port: number;
  /** How long the server's bytes are held before they reach the client. */
  delayMs: number;
  close(): Promise<void>;
}

async function startDelayingProxy(target: URL): Promise<DelayingProxy> {
  const sockets = new Set<Socket>();
  const proxy: { delayMs: number } = { delayMs: 0 };
  const server: Server = createServer((downstream) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(downstream).add(upstream);
    downstream.pipe(upstream);
    // in order: a chunk never overtakes one held back before it
    let last = 0;
    upstream.on('data', (chunk: Buffer) => {
      const at = Math.max(performance.now() + proxy.delayMs, last);
      last = at;
      setTimeout(() => downstream.write(chunk), Math.max(0, at - performance.now()));
    });
    const end = () => {
      upstream.destroy();
      downstream.destroy();
    };
    for (const socket of [downstream, upstream]) socket.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return Object.assign(proxy, {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  });
}
