import { rmSync } from 'node:fs';
import { topicsFor, type Topics } from '../../src/events/transaction-events.ts';
import type { Servers } from '../stack/servers.ts';
import { startService, type ServiceProcess } from '../stack/processes.ts';
import { dropDatabase, loadToken, runSetup } from '../stack/run-setup.ts';
import { assigned, poll } from '../stack/wait.ts';

/**
 * One API process and N worker processes (`src/main.ts` with ROLE=api / ROLE=worker, as a
 * supervisor runs them) in one consumer group, on a database, topics and group unique to the run,
 * so runs never see each other's messages or data.
 */
export interface Topology {
  readonly run: string;
  readonly database: string;
  readonly groupId: string;
  readonly topics: Topics;
  readonly apiUrl: string;
  readonly workers: readonly { readonly service: ServiceProcess; readonly metricsUrl: string }[];
  readonly token: string;
  users(count: number): string[];
  /** Kills every process; drops the database unless `keepData`. */
  close(keepData: boolean): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;

export async function startTopology(options: {
  readonly servers: Servers;
  readonly workers: number;
  readonly partitions: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly say: (line: string) => void;
}): Promise<Topology> {
  const { servers, say } = options;
  const setup = runSetup(servers, 'pipeline', options.partitions);
  const { run, dataDir, database, groupId, topicPrefix } = setup;
  const env: Record<string, string> = {
    ...setup.env,
    // reconciliation repairs what the run checks; a day means it never runs during a run
    RECONCILE_INTERVAL_MS: '86400000',
    ...options.env,
  };
  const services: ServiceProcess[] = [];
  const close = async (keepData: boolean) => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    rmSync(dataDir, { recursive: true, force: true });
    if (keepData) say(`database ${database} kept for inspection`);
    else await dropDatabase(servers.mongodbUrl, database);
  };
  try {
    const names = ['api-1', ...Array.from({ length: options.workers }, (_, i) => `worker-${i + 1}`)];
    say(`run ${run}: starting 1 API and ${options.workers} worker processes (database ${database})`);
    // one at a time: on 2 shared cores, parallel starts of several Node processes time out
    const started: { service: ServiceProcess; address: string }[] = [];
    for (const name of names) {
      const role = name.startsWith('api') ? 'api' : 'worker';
      const { service, address } = await startService(name, { ...env, ROLE: role }, START_TIMEOUT_MS);
      services.push(service);
      started.push({ service, address: address ?? '' });
    }
    const [api, ...workers] = started;
    if (api === undefined) throw new Error('no API process');
    // every worker in the group, and every partition owned, before the first write
    await poll(
      () => {
        const owned = workers.map((w) => assigned(w.service).length);
        return (
          owned.every((n) => n > 0 || options.workers > options.partitions) &&
          owned.reduce((a, b) => a + b, 0) === options.partitions
        );
      },
      START_TIMEOUT_MS,
      'every worker owns partitions',
    );
    const token = await loadToken(setup, 'pipeline');
    return {
      run,
      database,
      groupId,
      topics: topicsFor(topicPrefix),
      apiUrl: api.address,
      workers: workers.map((w) => ({ service: w.service, metricsUrl: w.address })),
      token,
      users: (count) => Array.from({ length: count }, (_, i) => `pipeline-${run}-u${i}`),
      close,
    };
  } catch (error) {
    await close(true);
    throw error;
  }
}
