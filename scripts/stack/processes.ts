import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The real entry point (`src/main.ts`) run as a child process with a given environment, as a
 * process supervisor would run it: its JSON log is parsed line by line so callers can wait for
 * a line (started, partitions assigned) without sleeping.
 */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Parsed JSON log lines so far (the newest MAX_LINES). */
  readonly logs: readonly LogLine[];
  /** Resolves when the process exits. */
  readonly exited: Promise<Exit>;
  /** Resolves with the first log line (past or future) that matches; rejects on exit or deadline. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
  /** The last lines it wrote that were not JSON log lines (stderr), for error messages. */
  tail(): string;
}

export type LogLine = Record<string, unknown> & { msg?: string };
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const ROOT = join(import.meta.dirname, '..', '..');
const MAX_LINES = 20_000;
const MAX_TAIL = 50;

export function spawnService(name: string, env: Readonly<Record<string, string>>): ServiceProcess {
  return spawnProcess(name, [process.execPath, join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    // METRICS_PORT=0: several workers on one host must not race for the default port
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: '0', ...env },
  });
}

export interface SpawnOptions {
  readonly cwd: string;
  /** The whole environment of the process. */
  readonly env: Readonly<Record<string, string>>;
  /** Run as this user (needs root), as a container's USER does. */
  readonly user?: { readonly uid: number; readonly gid: number } | undefined;
}

/** Any command (the service from the image's CMD, HAProxy) with its log lines read as above. */
export function spawnProcess(name: string, argv: readonly string[], options: SpawnOptions): ServiceProcess {
  const [command = '', ...args] = argv;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
  });
  // a command that cannot start (ENOENT) also emits 'error': without a listener it would crash us
  child.on('error', () => undefined);
  if (child.pid === undefined)
    throw new Error(`${name} did not start: ${command} not found or not executable`);
  const logs: LogLine[] = [];
  const other: string[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const keep = (list: string[] | LogLine[], max: number) => {
    if (list.length > max) list.splice(0, list.length - max);
  };
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = parse(text);
    if (line === undefined) {
      other.push(text);
      keep(other, MAX_TAIL);
      return;
    }
    logs.push(line);
    keep(logs, MAX_LINES);
    events.emit('line', line);
  });
  createInterface({ input: child.stderr }).on('line', (text) => {
    other.push(text);
    keep(other, MAX_TAIL);
  });
  // 'close', not 'exit': only then has every line it wrote been read (its last log lines included)
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      events.emit('exit');
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const service: ServiceProcess = {
    name,
    pid: child.pid,
    logs,
    exited,
    waitForLog: (match, timeoutMs) =>
      new Promise<LogLine>((resolve, reject) => {
        const found = logs.find(match);
        if (found !== undefined) {
          resolve(found);
          return;
        }
        const cleanup = () => {
          clearTimeout(timer);
          events.off('line', onLine);
          events.off('exit', onExit);
        };
        const onLine = (line: LogLine) => {
          if (!match(line)) return;
          cleanup();
          resolve(line);
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`${name} exited before the expected log line\n${service.tail()}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: no expected log line within ${timeoutMs} ms\n${service.tail()}`));
        }, timeoutMs);
        events.on('line', onLine);
        events.once('exit', onExit);
        if (done) onExit();
      }),
    kill: (signal) => {
      if (!done) child.kill(signal);
    },
    async stop(graceMs = 15_000) {
      service.kill('SIGTERM');
      const timer = setTimeout(() => {
        service.kill('SIGKILL');
      }, graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    tail: () => other.join('\n'),
  };
  return service;
}

/**
 * Spawns the service and waits for its 'started' line; `address` is where the API listens (with
 * PORT=0 the system picked the port), null for the worker role.
 */
export async function startService(
  name: string,
  env: Readonly<Record<string, string>>,
  timeoutMs = 60_000,
): Promise<{ service: ServiceProcess; address: string | null }> {
  const service = spawnService(name, env);
  try {
    const started = await service.waitForLog((l) => l.msg === 'started', timeoutMs);
    return { service, address: typeof started.address === 'string' ? started.address : null };
  } catch (error) {
    service.kill('SIGKILL');
    throw error;
  }
}

function parse(text: string): LogLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}
