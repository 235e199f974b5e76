import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loopbackHaproxyConfig } from '../../scripts/stack/haproxy-config.ts';
import { checkHaproxyConfig, ensureHaproxy } from '../../scripts/stack/haproxy.ts';
import { ROOT, readRepoFile } from './compose-project.ts';

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

  it('stops the loopback run when production changes a line the transformation rewrites', () => {
    const renamed = production.replace(
      'server-template api- 10 api:3000',
      'server-template api- 10 fido-api:3000',
    );
    assert.throws(() => loopback(renamed), /"server-template api- N api:3000" matches 0 lines/);
  });
});
