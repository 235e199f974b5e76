import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceProcess } from './processes.ts';

/** Polls until `check` holds, or throws naming what did not happen (no fixed sleeps). */
export async function poll(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

/** The partitions a worker process owns now, from its latest 'partitions assigned' log line. */
export function assigned(service: ServiceProcess, since = 0): string[] {
  const line = service.logs.findLast(
    (l) => l.msg === 'partitions assigned' && Date.parse(String(l.time)) >= since,
  );
  return Array.isArray(line?.partitions) ? line.partitions.map(String) : [];
}
