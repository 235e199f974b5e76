import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The processes under test, each in its own child so the load generator (this process) never
 * shares an event loop with them. CPU time is read from /proc/<pid>/stat (user + system time of
 * every thread of the child: the event loop, libuv's pool, the GC), so it counts what the server
 * spent, not what the load generator did.
 */
export interface Child {
  readonly pid: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** CPU time the child has used so far, in milliseconds. */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s. */
  stop(): Promise<void>;
}

const live = new Set<Child>();
const cleanups = new Set<() => Promise<void>>();

/** Registers what an interrupted run must still undo (databases, topics); returns the unregister. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Stops every child still running, then runs the registered clean-ups (the run is interrupted). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => child.stop()));
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / TICKS_PER_SECOND;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface StartOptions {
  readonly script: string;
  readonly env: Record<string, string>;
  readonly logFile: string;
  /** Path answering 200 once the child serves (HTTP children); null: wait for an IPC 'ready'. */
  readonly readyPath: string | null;
  readonly readyTimeoutMs?: number;
  /** IPC messages of the child, from its first one (a listener added later would miss some). */
  readonly onMessage?: (message: unknown) => void;
}

export async function startChild(options: StartOptions): Promise<Child> {
  const port = await freePort();
  const log = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [options.script], {
    env: { ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.script} did not start`);
  const url = `http://127.0.0.1:${port}`;
  const state: { exited: string | null } = { exited: null };
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      state.exited = `exited with ${code ?? signal ?? '?'}`;
      live.delete(handle);
      resolve();
    });
  });
  const handle: Child = {
    pid,
    url,
    process: child,
    cpuMs: () => cpuMsOf(pid),
    async stop() {
      if (state.exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
  live.add(handle);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  const readyPath = options.readyPath;
  let ipcReady = false;
  child.on('message', (message) => {
    if (message === 'ready') ipcReady = true;
    else options.onMessage?.(message);
  });
  for (;;) {
    if (state.exited !== null) throw new Error(`${options.script} ${state.exited}; see ${options.logFile}`);
    if (readyPath === null ? ipcReady : await answers(`${url}${readyPath}`)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${options.script} not ready in time; see ${options.logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
