import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnProcess, type ServiceProcess } from '../../scripts/stack/processes.ts';
import type { ComposeService } from './compose-project.ts';
import type { ReplayedStage } from './dockerfile-replay.ts';

/**
 * A service of docker-compose.yml built from the project's image, started as a process of the
 * replayed image (test/deploy/dockerfile-replay.ts): the service's command (else the image's
 * CMD), the image's ENV overlaid with the service's environment, the image's WORKDIR and USER.
 * What this machine puts in place of Docker, and nothing else, is changed:
 * - the servers' service names (`mongo:27017`, `redis:6379`, `kafka:9092`, `jaeger:4318`) become
 *   the test bed's loopback addresses; `replicaSet=rs0` is dropped, as the test bed's MongoDB-protocol server is
 *   no replica set (the replica set only a machine with an engine shows);
 * - the container's own network (HOST=0.0.0.0, PORT, METRICS_PORT) becomes 127.0.0.1 and free ports;
 * - the test bed is shared, so the run gets its own database (MONGODB_DATABASE), topic prefix
 *   and consumer group.
 * Every other variable is the compose file's, so one the service requires and the file lacks
 * stops the process at start, and the start fails with the service's own message.
 */
export interface Testbed {
  readonly mongodbUrl: string;
  readonly redisUrl: string;
  readonly kafkaBrokers: string;
  /** Jaeger's OTLP/HTTP endpoint, standing in for `jaeger:4318`. */
  readonly otlpEndpoint: string;
}

export interface RunningService {
  readonly process: ServiceProcess;
  /** The API's port (roles api, all), or the worker's health and metrics port. */
  readonly url: string;
  /** Runs the service's healthcheck command once: its exit code. */
  healthcheck(): Promise<number>;
}

const START_TIMEOUT_MS = 90_000;

export function loopbackEnv(
  environment: Readonly<Record<string, string | null>>,
  testbed: Testbed,
  run: string,
): Record<string, string> {
  const standIns: Record<string, string> = {
    'mongo:27017': new URL(testbed.mongodbUrl).host,
    'redis:6379': new URL(testbed.redisUrl).host,
    'kafka:9092': testbed.kafkaBrokers,
    'jaeger:4318': new URL(testbed.otlpEndpoint).host,
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value === null) continue; // `NAME:` with no value passes nothing when unset
    env[name] = value.replaceAll(/\b(mongo|redis|kafka|jaeger):\d+/g, (address) => {
      const local = standIns[address];
      if (local === undefined)
        throw new Error(`${name}=${value}: no test-bed server stands in for ${address}`);
      return local;
    });
  }
  if (env.MONGODB_URL !== undefined) {
    const url = new URL(env.MONGODB_URL);
    url.searchParams.delete('replicaSet');
    env.MONGODB_URL = url.toString();
  }
  if (env.MONGODB_DATABASE !== undefined) env.MONGODB_DATABASE = `fido_compose_${run}`;
  return { ...env, KAFKA_TOPIC_PREFIX: `compose-${run}.`, WORKER_GROUP_ID: `compose-${run}-workers` };
}

interface Prepared {
  readonly argv: string[];
  readonly options: { cwd: string; env: Record<string, string>; user: ReplayedStage['user'] };
  readonly url: string;
}

async function prepare(
  name: string,
  service: ComposeService,
  image: ReplayedStage,
  testbed: Testbed,
  run: string,
): Promise<Prepared> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const env = image.processEnv({
    ...loopbackEnv(service.environment ?? {}, testbed, run),
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
  });
  const argv = [...(service.entrypoint ?? []), ...(service.command ?? image.cmd ?? [])];
  if (argv.length === 0) throw new Error(`${name}: no command`);
  const role = env.ROLE ?? 'all';
  const url = `http://127.0.0.1:${role === 'worker' ? metricsPort : port}`;
  return { argv, options: { cwd: image.workdir, env, user: image.user }, url };
}

/** A long-running service: started, then polled until its healthcheck passes and it is ready. */
export async function startComposeService(
  name: string,
  service: ComposeService,
  image: ReplayedStage,
  testbed: Testbed,
  run: string,
): Promise<RunningService> {
  const { argv, options, url } = await prepare(name, service, image, testbed, run);
  const check = healthcheckArgv(service, image);
  const child = spawnProcess(name, argv, options);
  const healthcheck = () => exitCode(check, options);
  try {
    await until(child, START_TIMEOUT_MS, `${name} healthy`, async () => (await healthcheck()) === 0);
    await until(child, START_TIMEOUT_MS, `${name} ready`, async () => {
      const res = await fetch(`${url}/health/ready`).catch(() => null);
      return res?.status === 200;
    });
  } catch (error) {
    child.kill('SIGKILL');
    await child.exited;
    throw error;
  }
  return { process: child, url, healthcheck };
}

/** A one-shot job (`restart: 'no'`): run to its end; compose's `service_completed_successfully` needs exit 0. */
export async function runComposeJob(
  name: string,
  service: ComposeService,
  image: ReplayedStage,
  testbed: Testbed,
  run: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const { argv, options } = await prepare(name, service, image, testbed, run);
  const child = spawnProcess(name, argv, options);
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
  }, START_TIMEOUT_MS);
  const exit = await child.exited;
  clearTimeout(timer);
  return { ...exit, output: child.tail() };
}

/** The service's healthcheck (compose overrides the image's HEALTHCHECK), as an argv. */
function healthcheckArgv(service: ComposeService, image: ReplayedStage): readonly string[] {
  const test = service.healthcheck?.test;
  if (test === undefined) {
    if (image.healthcheck === null) throw new Error('no healthcheck, in the image or the service');
    return image.healthcheck;
  }
  const [kind, ...rest] = test;
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  throw new Error(`healthcheck ${test.join(' ')} is not run here`);
}

/** Polls `ready` until it holds; fails at the deadline or when the process exits first. */
async function until(child: ServiceProcess, timeoutMs: number, what: string, ready: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  const state = { exited: false };
  void child.exited.then(() => (state.exited = true));
  while (!(await ready())) {
    if (state.exited) throw new Error(`${child.name} exited before it was ${what}:\n${child.tail()}`);
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs} ms:\n${child.tail()}`);
    await sleep(250);
  }
}

function exitCode(
  argv: readonly string[],
  options: { cwd: string; env: Record<string, string>; user: { uid: number; gid: number } | undefined },
): Promise<number> {
  const [command = '', ...args] = argv;
  return new Promise((resolve) => {
    // HEALTHCHECK --timeout=5s: a check that hangs counts as failed
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: 5_000, ...options.user },
      (error) => {
        resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : 1);
      },
    );
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Compose duration (`30s`, `1m30s`, `500ms`) in milliseconds. */
export function durationMs(value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  let total = 0;
  for (const [, amount = '0', unit = 's'] of value.matchAll(/([\d.]+)(h|ms|us|m|s)/g)) {
    total += Number(amount) * (units[unit] ?? 0);
  }
  return total;
}
