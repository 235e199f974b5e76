import { rmSync } from 'node:fs';
import { topicsFor, type Topics } from '../../src/events/transaction-events.ts';
import { startLoadBalancer, type LoadBalancer } from './haproxy.ts';
import { partitionList } from './report.ts';
import { dropDatabase, loadToken, runSetup } from './run-setup.ts';
import type { Servers } from './servers.ts';
import { startService, type ServiceProcess } from './processes.ts';
import { assigned, poll } from './wait.ts';

/**
 * Two API processes behind HAProxy on loopback (production's config, haproxy.ts) and two worker processes in one
 * consumer group, on the given servers (`npm run stack:local`, `npm run faults`). Everything is
 * named uniquely for the run (database, topics, consumer group, token subject), so runs never
 * see each other's data.
 */
export interface Started {
  readonly service: ServiceProcess;
  /** The API's listen address, or the worker's health and metrics address. */
  readonly address: string;
}

export interface Stack {
  readonly run: string;
  readonly database: string;
  readonly groupId: string;
  readonly topics: Topics;
  readonly apis: readonly [Started, Started];
  readonly workers: readonly [Started, Started];
  readonly lb: LoadBalancer;
  /** A service token for the load (its subject is unique to the run). */
  readonly token: string;
  /** `count` user ids unique to the run, with `label` in them. */
  users(count: number, label?: string): string[];
  /** Every process started so far, the dead included (their logs explain a failed run). */
  readonly processes: readonly ServiceProcess[];
  /** Starts one more worker process (stopped with the stack), e.g. in another consumer group. */
  startWorker(name: string, env?: Readonly<Record<string, string>>): Promise<Started>;
  /** Kills what still runs; drops the database unless `keepData` (a failed run keeps it). */
  close(keepData: boolean): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
/**
 * As docker-compose.yml's api service: HAProxy (option forwardfor) is the one proxy, and a
 * SIGTERMed API answers readiness 503 for HAProxy's detection time (inter 5s x fall 2) before it
 * closes its listener, so no request is cut off.
 */
const API_ENV = { TRUST_PROXY_HOPS: '1', SHUTDOWN_WITHDRAW_MS: '11000', SHUTDOWN_TIMEOUT_MS: '25000' };

export async function launchStack(options: {
  readonly servers: Servers;
  readonly partitions: number;
  /** Names the run's database, topics and group: `<label>-<run>`. */
  readonly label: string;
  /** Added to every process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly say: (line: string) => void;
}): Promise<Stack> {
  const { servers, label, say } = options;
  const setup = runSetup(servers, label, options.partitions);
  const { run, dataDir, database, groupId, topicPrefix, env } = setup;
  const services: ServiceProcess[] = [];
  let lb: LoadBalancer | undefined;
  const start = async (name: string, extra: Readonly<Record<string, string>> = {}): Promise<Started> => {
    const role = name.startsWith('api') ? 'api' : 'worker';
    const roleEnv = role === 'api' ? API_ENV : {};
    const { service, address } = await startService(
      name,
      { ...env, ...roleEnv, ...options.env, ROLE: role, ...extra },
      START_TIMEOUT_MS,
    );
    services.push(service);
    return { service, address: address ?? '' };
  };
  const close = async (keepData: boolean) => {
    await lb?.close();
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    rmSync(dataDir, { recursive: true, force: true });
    // the topics stay (deleting them needs an admin client); a failed run keeps its data for a look
    if (keepData) say(`database ${database} kept for inspection`);
    else await dropDatabase(servers.mongodbUrl, database);
  };
  try {
    say(`run ${run}: starting 2 API and 2 worker processes (database ${database})`);
    const [api1, api2, worker1, worker2] = await Promise.all(
      ['api-1', 'api-2', 'worker-1', 'worker-2'].map((name) => start(name)),
    );
    if (api1 === undefined || api2 === undefined || worker1 === undefined || worker2 === undefined) {
      throw new Error('four processes expected');
    }
    const backends = [api1.address, api2.address];
    const balancer = await startLoadBalancer(backends);
    lb = balancer;
    await poll(() => backends.every((b) => balancer.healthy(b)), START_TIMEOUT_MS, 'both APIs ready');
    // a takeover is only a takeover if the group was shared before the fault
    await poll(
      () => {
        const [a, b] = [assigned(worker1.service).length, assigned(worker2.service).length];
        return a > 0 && b > 0 && a + b === options.partitions;
      },
      START_TIMEOUT_MS,
      'both workers own partitions',
    );
    say(
      `HAProxy ${balancer.url} -> ${backends.join(', ')}; partitions: worker-1 ${partitionList(assigned(worker1.service))}, worker-2 ${partitionList(assigned(worker2.service))}`,
    );
    const token = await loadToken(setup, label);
    return {
      run,
      database,
      groupId,
      topics: topicsFor(topicPrefix),
      apis: [api1, api2],
      workers: [worker1, worker2],
      lb: balancer,
      token,
      processes: services,
      users: (count, user = 'u') => Array.from({ length: count }, (_, i) => `${label}-${run}-${user}${i}`),
      startWorker: (name, extra) => start(name, extra),
      close,
    };
  } catch (error) {
    await close(true);
    throw error;
  }
}
