import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The test bed's own scripts, run without blocking the event loop (the load keeps running in
 * this process while a server stops or starts). Both serialise on the test bed's lock.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** `down.sh` accepts kafka, mongodb (FerretDB) and redis. */
export type Server = 'kafka' | 'mongodb' | 'redis';

export async function stopServer(server: Server): Promise<void> {
  await run('bash', [join(ROOT, 'scripts', 'testbed', 'down.sh'), server], { timeout: 120_000 });
}

/** Starts whatever is down and waits until every server answers (idempotent). */
export async function startServers(): Promise<void> {
  await run('bash', [join(ROOT, 'scripts', 'testbed', 'up.sh')], { timeout: 180_000 });
}

/** SIGKILL to the test bed's Redis (a crash, not a shutdown). */
export function killRedis(): void {
  const pid = Number(readFileSync(join(ROOT, '.services', 'redis', 'redis.pid'), 'utf8').trim());
  process.kill(pid, 'SIGKILL');
}
