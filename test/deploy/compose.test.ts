import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { loadCompose, readRepoFile, type ComposeService } from './compose-project.ts';
import { dockerfileEnv } from './dockerfile.ts';

/**
 * docker-compose.yml, checked statically: no Docker engine runs on these machines, so the stack
 * is never started here. What can be known without running it is checked: Compose accepts the
 * file, every server is health-checked and started in order, the service's configuration is
 * valid and points at the right servers, and only the load balancer is reachable from outside (Jaeger's
 * UI from the host's loopback only).
 */

const SECRETS = {
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  JWT_SECRET: 'a-compose-test-secret-of-at-least-32-chars',
};

function project() {
  const loaded = loadCompose(SECRETS);
  assert.equal(loaded.status, 0, loaded.stderr);
  assert.ok(loaded.project);
  return loaded.project.services;
}

const service = (services: Record<string, ComposeService>, name: string): ComposeService => {
  const found = services[name];
  assert.ok(found, `service ${name}`);
  return found;
};

const conditions = (s: ComposeService) =>
  Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([name, d]) => [name, d.condition]));

describe('docker-compose.yml', () => {
  it('is accepted by the Compose loader and holds every part of the stack', () => {
    const services = project();
    assert.deepEqual(Object.keys(services).sort(), [
      'api',
      'jaeger',
      'kafka',
      'lb',
      'mongo',
      'mongo-init',
      'redis',
      'worker',
    ]);
    assert.equal(service(services, 'api').deploy?.replicas, 2);
    assert.equal(service(services, 'worker').deploy?.replicas, 2);
    for (const s of Object.values(services)) {
      assert.match(s.image ?? '', /:[\w.-]+$/, 'every image names a version');
      assert.doesNotMatch(s.image ?? '', /:latest$/);
    }
    assert.equal(service(services, 'api').image, service(services, 'worker').image, 'one image, two roles');
  });

  it('takes the secrets from the environment and refuses to start without them', () => {
    const missing = loadCompose({});
    assert.notEqual(missing.status, 0);
    for (const name of ['ENCRYPTION_KEYS', 'JWT_SECRET']) assert.match(missing.stderr, new RegExp(name));
    const services = project();
    for (const name of ['api', 'worker']) {
      const env = service(services, name).environment ?? {};
      assert.equal(env.ENCRYPTION_KEYS, SECRETS.ENCRYPTION_KEYS);
      assert.equal(env.JWT_SECRET, SECRETS.JWT_SECRET);
    }
  });

  it('health-checks every long-running server and starts each after what it needs', () => {
    const services = project();
    for (const name of ['mongo', 'redis', 'kafka', 'api', 'worker', 'lb']) {
      const { healthcheck } = service(services, name);
      assert.ok((healthcheck?.test?.length ?? 0) > 1 && healthcheck?.disable !== true, `${name} healthcheck`);
    }
    assert.deepEqual(conditions(service(services, 'mongo-init')), { mongo: 'service_healthy' });
    const ready = { 'mongo-init': 'service_completed_successfully', redis: 'service_healthy' };
    // the API writes to the outbox, so it needs the broker started, not ready; traces are best
    // effort, so Jaeger only has to be started (its image has no tools for a healthcheck)
    const tracing = { jaeger: 'service_started' };
    assert.deepEqual(conditions(service(services, 'api')), {
      ...ready,
      ...tracing,
      kafka: 'service_started',
    });
    assert.deepEqual(conditions(service(services, 'worker')), {
      ...ready,
      ...tracing,
      kafka: 'service_healthy',
    });
    assert.deepEqual(conditions(service(services, 'lb')), { api: 'service_healthy' });
    // the app's healthcheck is the image's own script (Dockerfile HEALTHCHECK)
    assert.deepEqual(service(services, 'api').healthcheck?.test, ['CMD', 'node', 'dist/healthcheck.js']);
  });

  it("publishes the load balancer, and Jaeger's UI on the host's loopback only", () => {
    const services = project();
    const publishing = Object.entries(services)
      .filter(([, s]) => (s.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(publishing, ['jaeger', 'lb']);
    assert.deepEqual(
      service(services, 'lb').ports?.map((p) => p.target),
      [8080],
    );
    assert.deepEqual(
      service(services, 'jaeger').ports?.map((p) => [p.host_ip, p.published, p.target]),
      [['127.0.0.1', '16686', 16686]],
    );
  });

  it('gives each role a valid configuration that reaches the servers by their service names', () => {
    const services = project();
    const image = dockerfileEnv();
    for (const [name, role] of [
      ['api', 'api'],
      ['worker', 'worker'],
    ] as const) {
      const env = { ...image, ...service(services, name).environment } as Record<string, string>;
      const config = loadConfig(env); // throws naming any variable the service would refuse
      assert.equal(config.role, role);
      assert.equal(config.host, '0.0.0.0', 'listens beyond the container');
      const mongo = new URL(env.MONGODB_URL ?? '');
      assert.equal(mongo.host, 'mongo:27017');
      assert.equal(mongo.searchParams.get('replicaSet'), 'rs0');
      assert.equal(env.REDIS_URL, 'redis://redis:6379');
      assert.deepEqual(config.kafkaBrokers, ['kafka:9092']);
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318', 'traces to Jaeger by OTLP/HTTP');
    }
    const apiEnv = { ...image, ...service(services, 'api').environment } as Record<string, string>;
    assert.equal(loadConfig(apiEnv).trustProxyHops, 1);
    assert.match(readRepoFile('deploy', 'haproxy', 'haproxy.cfg'), /^\s+option forwardfor$/m);
    const kafka = service(services, 'kafka').environment ?? {};
    assert.match(kafka.KAFKA_ADVERTISED_LISTENERS ?? '', /PLAINTEXT:\/\/kafka:9092/);
    assert.match(kafka.KAFKA_PROCESS_ROLES ?? '', /controller/, 'KRaft: the broker is its own controller');
    // the Jaeger release built from the Go module the test bed runs (scripts/testbed/jaeger/go.mod)
    assert.equal(service(services, 'jaeger').image, 'jaegertracing/jaeger:2.12.0');
    assert.match(
      readRepoFile('scripts', 'testbed', 'jaeger', 'go.mod'),
      /github\.com\/jaegertracing\/jaeger v1\.75\.0\b/,
    );
    assert.deepEqual(service(services, 'mongo').command, ['--replSet', 'rs0', '--bind_ip_all']);
    const init = readRepoFile('deploy', 'mongo', 'init-replica-set.js');
    assert.match(init, /_id: 'rs0'/);
    assert.match(init, /host: 'mongo:27017'/);
    assert.match(init, /isWritablePrimary/, 'waits for a primary before the service starts');
  });
});
