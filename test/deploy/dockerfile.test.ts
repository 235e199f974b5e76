import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCompose, readRepoFile } from './compose-project.ts';
import { dockerfileEnv, dockerfileInstructions } from './dockerfile.ts';

/**
 * The Dockerfile and the load balancer's config, checked statically (no Docker engine here):
 * the image builds with dev dependencies and runs with production ones on the development Node
 * major, as an unprivileged user, health-checked; the load balancer balances every API replica
 * by readiness and keeps /metrics inside.
 */

const pkg = JSON.parse(readRepoFile('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('Dockerfile', () => {
  const all = dockerfileInstructions();
  const runtime = all.filter((i) => i.stage === 'runtime');
  const args = (keyword: string, stage = runtime) =>
    stage.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('builds in one stage and runs in another, both on the Node major of development', () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(all.map((i) => `${i.keyword} ${i.args}`).join('\n'))?.[1];
    assert.match(image ?? '', /^node:24-/);
    assert.match(pkg.engines.node, /^>=24\./);
    assert.match(pkg.devDependencies['@types/node'] ?? '', /^\^24\./);
    assert.deepEqual(args('FROM', all), ['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);
    const build = all.filter((i) => i.stage === 'build');
    assert.ok(args('RUN', build).some((a) => a.startsWith('npm ci ')));
    assert.ok(args('RUN', build).includes('npm run build'));
  });

  it('runs production dependencies only, without the npm-installed Node binary', () => {
    const install = args('RUN').find((a) => a.startsWith('npm ci'));
    assert.match(install ?? '', /^npm ci --omit=dev --ignore-scripts /);
    assert.match(install ?? '', /rm -rf node_modules\/node node_modules\/\.bin\/node/);
    assert.ok(args('COPY').includes('--from=build /app/dist ./dist'));
    // the alert rules, found from dist/ as ../../config
    assert.ok(args('COPY').includes('config ./config'));
    assert.ok(!args('COPY').some((a) => /^(\.|src|test|node_modules)\b/.test(a)));
  });

  it('runs as an unprivileged user, health-checked on /health/live, the role from ROLE', () => {
    const users = args('USER');
    assert.equal(users.length, 1);
    assert.ok(!['root', '0', ''].includes(users[0] ?? ''));
    const last = runtime.at(-1);
    assert.deepEqual(last, { keyword: 'CMD', args: '["node", "dist/main.js"]', stage: 'runtime' });
    const healthcheck = args('HEALTHCHECK')[0] ?? '';
    assert.match(healthcheck, /CMD \["node", "dist\/healthcheck\.js"\]$/);
    assert.match(readRepoFile('src', 'healthcheck.ts'), /\/health\/live/);
    const env = dockerfileEnv();
    assert.equal(env.ROLE, 'api');
    assert.equal(env.HOST, '0.0.0.0');
  });

  it('leaves dependencies, build output, local data and secrets out of the build context', () => {
    const ignored = readRepoFile('.dockerignore').split('\n');
    for (const path of ['node_modules', 'dist', '.git', '.data', '.env', '.cache']) {
      assert.ok(ignored.includes(path), path);
    }
  });
});

describe('HAProxy config', () => {
  const cfg = readRepoFile('deploy', 'haproxy', 'haproxy.cfg');
  const section = (header: string): string => {
    const start = cfg.indexOf(`\n${header}\n`);
    assert.ok(start >= 0, header);
    const end = cfg.slice(start + 1).search(/\n(?:frontend|backend|defaults|global|resolvers)\b/);
    return end < 0 ? cfg.slice(start) : cfg.slice(start, start + 1 + end);
  };

  it('balances every API replica, by readiness', () => {
    const backend = section('backend api');
    const replicas = loadCompose({ ENCRYPTION_KEYS: 'k:x', JWT_SECRET: 'x' }).project?.services.api?.deploy
      ?.replicas;
    const slots = /server-template api- (\d+) api:(\d+)/.exec(backend);
    assert.ok(slots, 'servers from the api service name');
    assert.ok(Number(slots[1]) >= (replicas ?? Infinity), 'a slot for every replica');
    assert.equal(slots[2], dockerfileEnv().PORT);
    assert.match(backend, /^\s+option httpchk$/m);
    assert.match(backend, /http-check send meth GET uri \/health\/ready /);
    assert.match(backend, /http-check expect status 200/);
    assert.match(backend, /default-server .*\bcheck\b/);
  });

  it('serves the published port and refuses /metrics from outside', () => {
    const front = section('frontend public');
    assert.match(front, /^\s+bind :8080$/m);
    assert.match(front, /acl ops_path path,url_dec,lower -m beg \/metrics/);
    assert.match(front, /http-request deny deny_status 404 if ops_path/);
  });

  it('answers its own container healthcheck while an API instance is ready', () => {
    const health = section('frontend lb_health');
    assert.match(health, /bind :8405/);
    assert.match(health, /monitor-uri \/lb\/health/);
    assert.match(health, /monitor fail if \{ nbsrv\(api\) lt 1 \}/);
    assert.match(readRepoFile('docker-compose.yml'), /http:\/\/127\.0\.0\.1:8405\/lb\/health/);
  });
});
