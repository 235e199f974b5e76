import { createClient } from './client.ts';
import { launchStack } from './launch.ts';
import type { Servers } from './servers.ts';
import { runLoad } from './load.ts';
import { verify, withdrawnByReadiness, type StackReport } from './verify.ts';

/**
 * `npm run stack:local` and test/deploy/stack-local.test.ts: the stack of launch.ts (two APIs
 * behind HAProxy, two workers in one group) on the test bed's servers; a bounded load through
 * the balancer; one API and one worker SIGKILLed mid-run; then the checks in verify.ts.
 */
export interface StackOptions {
  readonly servers: Servers;
  readonly writes: number;
  readonly users: number;
  readonly concurrency: number;
  /** Bound on the load's duration: no write starts after it. */
  readonly loadSeconds: number;
  readonly partitions: number;
  /** Acknowledged writes before the kills. */
  readonly killAfter: number;
  readonly progress?: (line: string) => void;
}

/** A retry of a create in flight on the killed API waits out the 30 s idempotency lock. */
const REQUEST_DEADLINE_MS = 45_000;

export async function runStack(options: StackOptions): Promise<StackReport> {
  const started = performance.now();
  const say = (line: string) => {
    options.progress?.(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
  };
  const stack = await launchStack({
    servers: options.servers,
    partitions: options.partitions,
    label: 'stack',
    say,
  });
  let ok = false;
  try {
    const [api1, api2] = stack.apis;
    const [worker1, worker2] = stack.workers;
    const { lb } = stack;
    const client = createClient(lb.url, stack.token, REQUEST_DEADLINE_MS);
    const users = stack.users(options.users);
    const kill: { at: number; wallTime: number; afterWrites: number; inFlight: number } = {
      at: Number.POSITIVE_INFINITY,
      wallTime: 0,
      afterWrites: -1,
      inFlight: 0,
    };
    say(`load: ${options.writes} writes from ${options.concurrency} lanes over ${options.users} users`);
    const load = await runLoad({
      client,
      users,
      writes: options.writes,
      concurrency: options.concurrency,
      maxMs: options.loadSeconds * 1000,
      onWrite: (count) => {
        if (kill.afterWrites >= 0 || count < options.killAfter) return;
        // kill while the API has requests in flight (the case under test), unless it never has
        if (lb.inFlight(api1.address) === 0 && count < options.killAfter + 50) return;
        kill.inFlight = lb.inFlight(api1.address);
        api1.service.kill('SIGKILL');
        worker1.service.kill('SIGKILL');
        Object.assign(kill, { wallTime: Date.now(), afterWrites: count });
        // requests that reached the API until it actually died were in flight on it
        void api1.service.exited.then(() => (kill.at = Date.now()));
        say(`SIGKILL api-1 (${kill.inFlight} requests in flight) and worker-1 after ${count} writes`);
      },
    });
    say(
      `load done: ${load.started} writes started, acknowledged ${JSON.stringify(load.acknowledged)}; verifying`,
    );
    const report = await verify({
      load,
      client,
      lb,
      users,
      kill,
      victimApi: api1.address,
      survivor: worker2.service,
      partitions: options.partitions,
      mongodb: { url: options.servers.mongodbUrl, database: stack.database },
      writes: options.writes,
      say,
    });
    // stopped as an orchestrator stops them, HAProxy still in front: the API must leave the
    // rotation by its readiness answer before its listener closes
    const [apiExit, workerExit] = await Promise.all([api2.service.stop(30_000), worker2.service.stop()]);
    const stoppedAt = Date.now();
    await lb.close();
    const exits = { [api2.service.name]: apiExit, [worker2.service.name]: workerExit };
    report.checks.push({
      name: 'the surviving processes stop gracefully on SIGTERM (exit 0)',
      ok: Object.values(exits).every((e) => e.code === 0),
      detail: JSON.stringify(exits),
    });
    report.checks.push(withdrawnByReadiness(lb, api2.address, stoppedAt));
    ok = report.checks.every((c) => c.ok);
    return { ...report, ok, durationMs: performance.now() - started };
  } finally {
    await stack.close(!ok);
  }
}
