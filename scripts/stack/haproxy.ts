import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loopbackHaproxyConfig } from './haproxy-config.ts';
import { poll } from './wait.ts';

/**
 * HAProxy (Debian's package, installed by scripts/testbed/ensure-haproxy.sh when missing) in front
 * of the API processes of `npm run stack:local`, run from deploy/haproxy/haproxy.cfg made to run on
 * loopback (haproxy-config.ts). What the scale-out check needs is read from HAProxy itself: each
 * server's state and the requests in flight on it from its runtime API (`show stat`), and every
 * request it answered from its HTTP log (`option httplog` on stdout).
 */
export interface LoadBalancer {
  readonly url: string;
  /** The `lb_health` frontend (docker-compose.yml's healthcheck of the lb service asks /lb/health). */
  readonly healthUrl: string;
  /** Requests HAProxy answered 5xx itself, with the server they were on (none: `<NOSRV>`). */
  readonly failures: readonly UpstreamFailure[];
  /** Every request logged (served or not), oldest first. */
  readonly requests: readonly LoggedRequest[];
  /** Health-check transitions HAProxy logged, oldest first. */
  readonly transitions: readonly Transition[];
  /** Requests being served by `backend` now (HAProxy's scur, refreshed every 100 ms). */
  inFlight(backend: string): number;
  /** Whether HAProxy has `backend` in rotation, its last readiness check passed (refreshed every 100 ms). */
  healthy(backend: string): boolean;
  close(): Promise<void>;
}

export interface LoggedRequest {
  /** The backend's URL, or `<NOSRV>`. */
  readonly backend: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Epoch ms when HAProxy received the request. */
  readonly startedAt: number;
  /** Until HAProxy was done with it (Ta). */
  readonly durationMs: number;
  /** HAProxy's termination state: `----` when the server answered, else who ended it and when. */
  readonly termination: string;
}

export interface UpstreamFailure extends LoggedRequest {
  readonly error: string;
}

export interface Transition {
  readonly backend: string;
  readonly state: 'UP' | 'DOWN';
  readonly reason: string;
  /** Epoch ms when the line was read. */
  readonly at: number;
}

const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG = join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg');
const STATS_EVERY_MS = 100;

/**
 * The haproxy binary, installed first when missing (root and apt-get), as the test bed installs
 * redis-server. Debian puts it in /usr/sbin, which a non-root user's PATH may lack.
 */
export function ensureHaproxy(): string {
  const find = () => {
    const found = spawnSync(
      'sh',
      ['-c', 'command -v haproxy || test -x /usr/sbin/haproxy && echo /usr/sbin/haproxy'],
      {
        encoding: 'utf8',
      },
    );
    return found.stdout.trim().split('\n')[0] ?? '';
  };
  if (find() !== '') return find();
  const install = spawnSync('bash', [join(ROOT, 'scripts', 'testbed', 'ensure-haproxy.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const path = find();
  if (install.status !== 0 || path === '')
    throw new Error('haproxy is missing and could not be installed (see above)');
  return path;
}

/** `haproxy -c`: null when the config is valid, else HAProxy's complaint. */
export function checkHaproxyConfig(path: string): string | null {
  const check = spawnSync(ensureHaproxy(), ['-c', '-f', path], { encoding: 'utf8' });
  return check.status === 0 ? null : `${check.stdout}${check.stderr}`;
}

export async function startLoadBalancer(backends: readonly string[]): Promise<LoadBalancer> {
  const haproxy = ensureHaproxy();
  const dir = mkdtempSync(join(tmpdir(), 'fido-haproxy-'));
  const [publicPort, healthPort] = [await freePort(), await freePort()];
  const socket = join(dir, 'admin.sock');
  const cfgPath = join(dir, 'haproxy.cfg');
  const options = { publicPort, healthPort, backends, statsSocket: socket };
  writeFileSync(cfgPath, loopbackHaproxyConfig(readFileSync(CONFIG, 'utf8'), options));
  const invalid = checkHaproxyConfig(cfgPath);
  if (invalid !== null) throw new Error(`haproxy -c refused the loopback config:\n${invalid}`);

  const addressOf = (server: string) => backends[Number(/^api-(\d+)$/.exec(server)?.[1] ?? 0) - 1] ?? server;
  const requests: LoggedRequest[] = [];
  const failures: UpstreamFailure[] = [];
  const transitions: Transition[] = [];
  const other: string[] = [];
  const child = spawn(haproxy, ['-db', '-f', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      resolve();
    }),
  );
  child.on('error', () => undefined);
  const read = (line: string) => {
    const transition = /^Server api\/(\S+) is (UP|DOWN), reason: ([^,]+(?:, code: \d+)?)/.exec(line);
    if (transition !== null) {
      const [, server = '', state, reason = ''] = transition;
      transitions.push({ backend: addressOf(server), state: state as 'UP' | 'DOWN', reason, at: Date.now() });
      return;
    }
    const request = parseHttpLog(line, addressOf);
    if (request === null) {
      other.push(line);
      if (other.length > 50) other.shift();
      return;
    }
    requests.push(request);
    // an answer HAProxy made itself: the server broke, refused, timed out, or there was none
    if (request.status >= 500 && request.termination !== '----') {
      failures.push({ ...request, error: request.termination });
    }
  };
  createInterface({ input: child.stdout }).on('line', read);
  createInterface({ input: child.stderr }).on('line', (line) => {
    other.push(line);
    if (other.length > 50) other.shift();
  });

  const stats = new Map<string, { status: string; check: string; scur: number }>();
  const refresh = async () => {
    const [header = '', ...rows] = (await showStat(socket)).split('\n');
    const column = (name: string) => header.replace(/^# /, '').split(',').indexOf(name);
    const [status, check, scur] = [column('status'), column('check_status'), column('scur')];
    for (const cells of rows.map((row) => row.split(','))) {
      if (cells[0] !== 'api' || !/^api-\d+$/.test(cells[1] ?? '')) continue;
      stats.set(addressOf(cells[1] ?? ''), {
        status: cells[status] ?? '',
        check: cells[check] ?? '',
        scur: Number(cells[scur]),
      });
    }
  };
  const ticker: { timer?: NodeJS.Timeout } = {};
  const close = async () => {
    clearInterval(ticker.timer);
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await poll(
      () =>
        refresh().then(
          () => stats.size === backends.length,
          () => false,
        ),
      10_000,
      'HAProxy up',
    );
  } catch (error) {
    await close();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${other.join('\n')}`);
  }
  ticker.timer = setInterval(() => void refresh().catch(() => undefined), STATS_EVERY_MS);
  return {
    url: `http://127.0.0.1:${publicPort}`,
    healthUrl: `http://127.0.0.1:${healthPort}`,
    requests,
    failures,
    transitions,
    inFlight: (backend) => stats.get(backend)?.scur ?? 0,
    healthy: (backend) => {
      const server = stats.get(backend);
      return server !== undefined && server.status.startsWith('UP') && server.check === 'L7OK';
    },
    close,
  };
}

/**
 * One `option httplog` line: `client:port [date] frontend backend/server Treq/Tw/Tc/Tr/Ta status
 * bytes cookie cookie termination conns queues "METHOD path HTTP/1.1"`.
 */
export function parseHttpLog(line: string, addressOf: (server: string) => string): LoggedRequest | null {
  const match =
    /^\S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})\] \S+ [^/\s]+\/(\S+) \S+\/\+?(-?\d+) (\d{3}) \S+ \S+ \S+ (\S{4}) .*"(\S+) (\S+) [^"]*"$/.exec(
      line,
    );
  if (match === null) return null;
  const [
    ,
    day,
    month,
    year,
    h,
    m,
    s,
    ms,
    server = '',
    total,
    status,
    termination = '',
    method = '',
    path = '',
  ] = match;
  const monthIndex = 'JanFebMarAprMayJunJulAugSepOctNovDec'.indexOf(month ?? '') / 3;
  // HAProxy writes the machine's local time, as Date's local-time constructor reads it
  const startedAt = new Date(
    Number(year),
    monthIndex,
    Number(day),
    Number(h),
    Number(m),
    Number(s),
    Number(ms),
  ).getTime();
  return {
    backend: server === '<NOSRV>' ? server : addressOf(server),
    method,
    path,
    status: Number(status),
    startedAt,
    durationMs: Number(total),
    termination,
  };
}

/** `show stat` on HAProxy's runtime API: CSV, one row per proxy and server. */
function showStat(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const conn = createConnection(socket, () => conn.write('show stat\n'));
    conn.setTimeout(2_000, () => conn.destroy(new Error('show stat timed out')));
    conn.on('data', (chunk: Buffer) => chunks.push(chunk));
    conn.on('error', reject);
    conn.on('close', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = (server.address() ?? {}) as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
