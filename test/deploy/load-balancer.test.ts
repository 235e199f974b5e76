import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { startLoadBalancer } from '../../scripts/stack/load-balancer.ts';
import { eventually } from '../helpers.ts';

/** A backend on loopback that answers with its name, or breaks the connection on /break. */
async function backend(name: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/break') {
      req.socket.destroy();
      return;
    }
    req.resume();
    req.on('end', () => res.end(name));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const text = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text() };
};

// The balancer of `npm run stack:local`: the scale-out check relies on how it classifies failures.
describe('the loopback load balancer of the scale-out run', () => {
  it('alternates between healthy backends and passes bodies through', async () => {
    const [a, b] = [await backend('a'), await backend('b')];
    const lb = await startLoadBalancer([a.url, b.url]);
    try {
      const answers = [];
      for (let i = 0; i < 4; i++)
        answers.push((await text(`${lb.url}/x`, { method: 'POST', body: 'x' })).body);
      assert.deepEqual(answers.sort(), ['a', 'a', 'b', 'b']);
    } finally {
      await lb.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('sends a request whose connection is refused to the next backend, and then skips the dead one', async () => {
    const [a, b] = [await backend('a'), await backend('b')];
    const lb = await startLoadBalancer([a.url, b.url]);
    try {
      await b.close();
      for (let i = 0; i < 4; i++) assert.deepEqual(await text(`${lb.url}/x`), { status: 200, body: 'a' });
      await eventually(() => Promise.resolve(lb.healthy(b.url) ? undefined : true), 5_000);
      assert.deepEqual(lb.failures, []);
    } finally {
      await lb.close();
      await a.close();
    }
  });

  it('answers 502 for a request whose backend broke after it was sent, and records it', async () => {
    const a = await backend('a');
    const lb = await startLoadBalancer([a.url]);
    try {
      const answer = await text(`${lb.url}/break`, { method: 'POST', body: '{}' });
      assert.equal(answer.status, 502);
      assert.deepEqual(
        lb.failures.map((f) => [f.backend, f.method, f.path]),
        [[a.url, 'POST', '/break']],
      );
    } finally {
      await lb.close();
      await a.close();
    }
  });
});
