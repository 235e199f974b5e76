import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loopbackHaproxyConfig } from '../../scripts/stack/haproxy-config.ts';
import { checkHaproxyConfig, ensureHaproxy, startLoadBalancer } from '../../scripts/stack/haproxy.ts';
import { startService, type ServiceProcess } from '../../scripts/stack/processes.ts';
import { poll } from '../../scripts/stack/wait.ts';
import { ROOT, loadCompose, readRepoFile } from './compose-project.ts';
import { durationMs } from './compose-services.ts';

/**
 * deploy/haproxy/haproxy.cfg, the config docker-compose.yml mounts into HAProxy, checked by HAProxy
 * itself (`haproxy -c`, Debian's package, installed when missing), and the loopback form that
 * `npm run stack:local` runs: production's config with only the documented lines changed.
 */
describe('the HAProxy config of docker-compose.yml', () => {
  const production = readRepoFile('deploy', 'haproxy', 'haproxy.cfg');
  const dir = mkdtempSync(join(tmpdir(), 'fido-haproxy-test-'));
  const check = (name: string, cfg: string) => {
    const path = join(dir, name);
    writeFileSync(path, cfg);
    return checkHaproxyConfig(path);
  };
  const loopback = (cfg: string) =>
    loopbackHaproxyConfig(cfg, {
      publicPort: 44780,
      healthPort: 44781,
      backends: ['http://127.0.0.1:44782', 'http://127.0.0.1:44783'],
      statsSocket: join(dir, 'admin.sock'),
    });
  before(() => {
    ensureHaproxy();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is valid for HAProxy (haproxy -c)', () => {
    assert.equal(checkHaproxyConfig(join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg')), null);
  });

  it('is refused by haproxy -c when broken, so the check above can fail', () => {
    const broken = production.replace('balance leastconn', 'balance leastconnections');
    assert.match(check('broken.cfg', broken) ?? '', /broken\.cfg:\d+\] : balance only supports/);
  });

  it('runs on loopback with only the bind addresses, the servers and a stats socket changed', () => {
    const cfg = loopback(production);
    assert.equal(check('loopback.cfg', cfg), null);
    const lines = (text: string) => new Set(text.split('\n'));
    const [before, after] = [lines(production), lines(cfg)];
    assert.deepEqual(
      [...before].filter((l) => !after.has(l)).map((l) => l.trim()),
      [
        'bind :8080',
        'default-server inter 5s fastinter 1s downinter 5s fall 2 rise 2 check resolvers docker init-addr none',
        'server-template api- 10 api:3000',
        'bind :8405',
      ],
    );
    assert.deepEqual(
      [...after].filter((l) => !before.has(l)).map((l) => l.trim()),
      [
        `stats socket ${join(dir, 'admin.sock')} mode 600 level user`,
        'bind 127.0.0.1:44780',
        'default-server inter 5s fastinter 1s downinter 5s fall 2 rise 2 check',
        'server api-1 127.0.0.1:44782',
        'server api-2 127.0.0.1:44783',
        'bind 127.0.0.1:44781',
      ],
    );
  });

  it("gives a SIGTERMed API time to leave HAProxy's rotation, within compose's grace period", () => {
    const timing = /default-server inter (\d+)s fastinter (\d+)s .*fall (\d+)/.exec(production);
    assert.ok(timing, 'check timing on the default-server line');
    const [inter, fastinter, fall] = timing.slice(1).map(Number) as [number, number, number];
    // worst case: a check just passed, then `fall` failures (the first after inter, the rest after fastinter)
    const detectionMs = (inter + (fall - 1) * fastinter) * 1000;
    const secrets = {
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      JWT_SECRET: 'x'.repeat(32),
    };
    const api = loadCompose(secrets).project?.services.api;
    const env = api?.environment ?? {};
    assert.ok(Number(env.SHUTDOWN_WITHDRAW_MS) >= detectionMs, `withdraw ${env.SHUTDOWN_WITHDRAW_MS} ms`);
    assert.ok(Number(env.SHUTDOWN_TIMEOUT_MS) > Number(env.SHUTDOWN_WITHDRAW_MS));
    assert.ok(durationMs(api?.stop_grace_period, 10_000) > Number(env.SHUTDOWN_TIMEOUT_MS), 'grace period');
  });

  it('stops the loopback run when production changes a line the transformation rewrites', () => {
    const renamed = production.replace(
      'server-template api- 10 api:3000',
      'server-template api- 10 fido-api:3000',
    );
    assert.throws(() => loopback(renamed), /"server-template api- N api:3000" matches 0 lines/);
  });
});

describe('HAProxy from that config in front of two API processes', () => {
  it(
    'balances both, keeps /metrics inside, and answers its own healthcheck by the APIs readiness',
    { timeout: 120_000 },
    async (t) => {
      const dataDirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'fido-haproxy-api-')));
      const started: ServiceProcess[] = [];
      t.after(async () => {
        for (const service of started) service.kill('SIGKILL');
        await Promise.all(started.map((service) => service.exited));
        for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      });
      const apis = await Promise.all(
        dataDirs.map(async (dir, i) => {
          const env = { ROLE: 'api', PORT: '0', DATA_DIR: dir };
          // as docker-compose.yml's api service
          const api = await startService(`api-${i + 1}`, {
            ...env,
            SHUTDOWN_WITHDRAW_MS: '11000',
            SHUTDOWN_TIMEOUT_MS: '25000',
          });
          started.push(api.service);
          return api;
        }),
      );
      const backends = apis.map((a) => a.address ?? '');
      const lb = await startLoadBalancer(backends);
      try {
        await poll(() => backends.every((b) => lb.healthy(b)), 30_000, 'both APIs in rotation');
        for (let i = 0; i < 6; i++) assert.equal((await fetch(`${lb.url}/health/live`)).status, 200);
        await poll(() => lb.requests.length >= 6, 5_000, 'the requests logged');
        assert.deepEqual([...new Set(lb.requests.map((r) => r.backend))].sort(), [...backends].sort());
        // the API serves /metrics; HAProxy refuses it from outside, however the path is spelled
        assert.equal((await fetch(`${backends[0] ?? ''}/metrics`)).status, 200);
        for (const path of ['/metrics', '/METRICS', '/%6Detrics', '/metrics/']) {
          assert.equal((await fetch(`${lb.url}${path}`)).status, 404, path);
        }
        assert.equal((await fetch(`${lb.healthUrl}/lb/health`)).status, 200);

        // SIGTERM: each API answers readiness 503 while it still serves; HAProxy takes both out,
        // and the lb service's own healthcheck then fails
        for (const api of apis) api.service.kill('SIGTERM');
        await poll(
          async () => (await fetch(`${lb.healthUrl}/lb/health`)).status === 503,
          20_000,
          'lb health 503 once no API is ready',
        );
        assert.equal((await fetch(`${lb.url}/health/live`)).status, 503);
        const down = lb.transitions.filter((t) => t.state === 'DOWN');
        assert.deepEqual(down.map((t) => t.backend).sort(), [...backends].sort());
        for (const t of down) assert.match(t.reason, /Layer7 wrong status, code: 503/);
        assert.deepEqual(
          lb.failures.filter((f) => f.backend !== '<NOSRV>'),
          [],
          'no request cut off',
        );
        for (const api of apis) assert.deepEqual(await api.service.exited, { code: 0, signal: null });
      } finally {
        await lb.close();
      }
    },
  );
});
