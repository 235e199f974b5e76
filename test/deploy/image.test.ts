import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dropDatabase } from '../../scripts/stack/run-setup.ts';
import { loadCompose, readRepoFile, type ComposeService } from './compose-project.ts';
import {
  durationMs,
  runComposeJob,
  startComposeService,
  type RunningService,
  type Testbed,
} from './compose-services.ts';
import { removeReplay, replayDockerfile, type ReplayedStage } from './dockerfile-replay.ts';
import { requireEnv, tokenFor } from '../helpers.ts';

/**
 * The image and the compose services, proven by running them (no Docker engine here): the
 * Dockerfile replayed from its real build context (test/deploy/dockerfile-replay.ts: `npm run build`
 * and every other step for real), then each compose service built from the image started from the
 * replayed runtime stage with exactly its command and environment (test/deploy/compose-services.ts),
 * health-checked by its own healthcheck, ready against the test bed, and stopped as
 * `docker compose down` stops it.
 */

const SECRETS = {
  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  JWT_SECRET: randomBytes(32).toString('hex'),
};
const BUILD_TIMEOUT_MS = 600_000;
/** For a service that names no server (the image run alone): any use would fail loudly. */
const noTestbed: Testbed = {
  mongodbUrl: 'mongodb://unused',
  redisUrl: 'redis://unused',
  kafkaBrokers: 'unused',
  otlpEndpoint: 'http://unused',
};

/** The image's runtime stage (its last), built once for the whole file. */
let replay: Map<string, ReplayedStage> | undefined;
const runtimeImage = (): ReplayedStage => {
  replay ??= replayDockerfile();
  const runtime = [...replay.values()].at(-1);
  assert.ok(runtime, 'a stage');
  return runtime;
};
after(() => {
  if (replay !== undefined) removeReplay(replay);
});

describe('the Dockerfile, replayed from its build context', () => {
  let image: ReplayedStage;
  before(
    () => {
      image = runtimeImage();
    },
    { timeout: BUILD_TIMEOUT_MS },
  );

  it('builds the service, its console and alert rules, and ships production dependencies only', () => {
    const app = image.workdir;
    for (const file of ['dist/main.js', 'dist/healthcheck.js', 'dist/console/public/index.html']) {
      assert.ok(existsSync(join(app, file)), file);
    }
    assert.ok(existsSync(join(app, 'config', 'alert-rules.json')));
    assert.deepEqual(readdirSync(app).sort(), [
      '.data',
      'config',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
    ]);
    assert.ok(existsSync(join(app, 'node_modules', 'fastify')));
    for (const dev of ['typescript', 'eslint', 'node', '.bin/node']) {
      assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} stays out of the image`);
    }
    if (image.user !== undefined) assert.equal(statSync(join(app, '.data')).uid, image.user.uid);
  });

  it(
    'runs its CMD with its ENV alone (embedded defaults) as the unprivileged user, writing only to DATA_DIR',
    { timeout: 120_000 },
    async () => {
      const app = image.workdir;
      const before = readdirSync(app).sort();
      // no environment of its own: `docker run fido-transactions`, the image's HEALTHCHECK
      const running = await startComposeService(
        'image',
        {},
        image,
        noTestbed,
        randomBytes(5).toString('hex'),
      );
      try {
        assert.equal(await running.healthcheck(), 0);
        const dataDir = image.env.DATA_DIR ?? '';
        assert.ok(readdirSync(dataDir).length > 0, 'the embedded store and local secrets in DATA_DIR');
        if (image.user !== undefined) {
          for (const file of readdirSync(dataDir))
            assert.equal(statSync(join(dataDir, file)).uid, image.user.uid);
        }
        assert.deepEqual(readdirSync(app).sort(), before);
      } finally {
        assert.deepEqual(await running.process.stop(), { code: 0, signal: null });
      }
    },
  );

  it('fails when the build needs a file that the Dockerfile does not copy', () => {
    const dockerfile = readRepoFile('Dockerfile').replace(/^COPY scripts\/copy-console\.ts .*$/m, '');
    assert.throws(
      () => replayDockerfile({ dockerfile }),
      /RUN npm run build[^]*Cannot find module .*copy-console\.ts/,
    );
  });

  it('fails when a file the Dockerfile copies is left out of the build context', () => {
    const dockerignore = `${readRepoFile('.dockerignore')}\nscripts/copy-console.ts\n`;
    assert.throws(
      () => replayDockerfile({ dockerignore }),
      /COPY scripts\/copy-console\.ts: not in the build context/,
    );
  });
});

describe('the compose services built from the image, started as defined', () => {
  const testbed: Testbed = {
    mongodbUrl: requireEnv('MONGODB_URL'),
    redisUrl: requireEnv('REDIS_URL'),
    kafkaBrokers: requireEnv('KAFKA_BROKERS'),
    otlpEndpoint: requireEnv('TESTBED_OTLP_ENDPOINT'),
  };
  let image: ReplayedStage;
  let services: Record<string, ComposeService>;
  before(
    () => {
      const loaded = loadCompose(SECRETS);
      assert.equal(loaded.status, 0, loaded.stderr);
      services = loaded.project?.services ?? {};
      image = runtimeImage();
    },
    { timeout: BUILD_TIMEOUT_MS },
  );
  const fromImage = () => Object.entries(services).filter(([, s]) => s.build !== undefined);

  it(
    'starts every service of the image: healthy, ready, serving, then stopped within its grace period',
    { timeout: 240_000 },
    async (t) => {
      const jobs = fromImage().filter(([, s]) => s.restart === 'no');
      const long = fromImage().filter(([, s]) => s.restart !== 'no');
      assert.deepEqual(long.map(([name]) => name).sort(), ['api', 'worker']);
      const run = randomBytes(5).toString('hex');
      const running: [string, ComposeService, RunningService][] = [];
      try {
        // one-shot jobs first, as the services wait for them (service_completed_successfully)
        for (const [name, service] of jobs) {
          const exit = await runComposeJob(name, service, image, testbed, run);
          assert.equal(exit.code, 0, `${name}: ${exit.output}`);
        }
        for (const [name, service] of long) {
          running.push([name, service, await startComposeService(name, service, image, testbed, run)]);
          t.diagnostic(`${name} healthy and ready`);
        }
        const api = running.find(([name]) => name === 'api')?.[2];
        assert.ok(api);
        const token = await tokenFor({ secret: SECRETS.JWT_SECRET, sub: `compose-${run}` });
        const created = await fetch(`${api.url}/api/v1/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            user_id: `compose-${run}`,
            full_name: 'Ama Mensah',
            transaction_date: '2026-11-30T10:00:00Z',
            transaction_amount: '12.50',
            transaction_type: 'credit',
          }),
        });
        assert.equal(created.status, 201, await created.clone().text());
        const { id } = (await created.json()) as { id: string };
        const read = await fetch(`${api.url}/api/v1/transactions/${id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(((await read.json()) as { full_name: string }).full_name, 'Ama Mensah');
        // docker compose down: SIGTERM, then SIGKILL after the service's stop_grace_period
        const exits = await Promise.all(
          running.map(async ([name, service, r]) => {
            const graceMs = durationMs(service.stop_grace_period, 10_000);
            const started = performance.now();
            const exit = await r.process.stop(graceMs);
            return { name, exit, ms: Math.round(performance.now() - started), graceMs };
          }),
        );
        t.diagnostic(JSON.stringify(exits));
        for (const { name, exit } of exits) assert.deepEqual(exit, { code: 0, signal: null }, name);
        // the healthcheck tells a stopped service apart: Docker would mark it unhealthy
        for (const [name, , r] of running) assert.equal(await r.healthcheck(), 1, name);
      } finally {
        for (const [, , r] of running) r.process.kill('SIGKILL');
        await dropDatabase(testbed.mongodbUrl, `fido_compose_${run}`);
      }
    },
  );

  it(
    'refuses to start a service whose compose environment lacks a required variable',
    { timeout: 120_000 },
    async () => {
      const api = services.api;
      assert.ok(api?.environment);
      const environment = { ...api.environment };
      delete environment.JWT_SECRET;
      await assert.rejects(
        startComposeService('api', { ...api, environment }, image, testbed, randomBytes(5).toString('hex')),
        /exited before it was api healthy[^]*JWT_SECRET/,
      );
    },
  );
});
