import autocannon from 'autocannon';
import type { Child } from './processes.ts';

/**
 * Closed-loop load with autocannon (programmatic API) from this process against a server child:
 * `connections` keep-alive connections, one request in flight on each, for `durationS`. A warm-up
 * run first (JIT, connection pools, a cache's first fill) is discarded; then `runs` measured runs,
 * and the run with the median throughput is the one reported.
 */
export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A fresh body per request (POST). */
  readonly body?: () => string;
  /** The status every answer must have (a conditional read: 304); default any 2xx. */
  readonly expectStatus?: number;
}

export interface RunResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Latencies in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Connection errors, timeouts and answers of another status than expected: must be 0. */
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /**
   * Server CPU time (user + system, all threads) per request, in microseconds, less what the
   * server spends idle over the same time (its timers and pollers), measured just before.
   */
  readonly cpuUsPerRequest: number;
}

/** How long the server is watched doing nothing, for its idle CPU rate. */
const IDLE_SAMPLE_MS = 1_000;

export interface LoadSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly runs: number;
  readonly connections: number;
}

export async function measure(
  server: Child,
  request: LoadRequest,
  settings: LoadSettings,
): Promise<{ runs: RunResult[]; median: RunResult }> {
  if (settings.warmupS > 0) await once(server, request, settings.warmupS, settings.connections, 0);
  const idleBefore = server.cpuMs();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  const idleMsPerS = ((server.cpuMs() - idleBefore) * 1000) / IDLE_SAMPLE_MS;
  const runs: RunResult[] = [];
  for (let i = 0; i < settings.runs; i++) {
    runs.push(await once(server, request, settings.durationS, settings.connections, idleMsPerS));
  }
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('no runs');
  return { runs, median };
}

async function once(
  server: Child,
  request: LoadRequest,
  seconds: number,
  connections: number,
  idleMsPerS: number,
) {
  const { body } = request;
  // autocannon's own histogram rounds to whole milliseconds; its response event has the
  // hrtime-based duration, so percentiles are computed here from every response
  const latencies: number[] = [];
  const cpuBefore = server.cpuMs();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections,
        duration: seconds,
        timeout: 30,
        requests: [
          {
            method: request.method,
            path: request.path,
            headers: request.headers,
            ...(body && { setupRequest: (r: autocannon.Request) => ({ ...r, body: body() }) }),
          },
        ],
      },
      (error: unknown, done: autocannon.Result) => {
        if (error) reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }));
        else resolve(done);
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
  const cpuMs = Math.max(0, server.cpuMs() - cpuBefore - idleMsPerS * result.duration);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stat.count ?? 0;
  const requests = result.requests.total;
  const expected = request.expectStatus;
  const unexpected =
    expected === undefined
      ? result.non2xx
      : Object.entries(statusCodes).reduce(
          (sum, [code, n]) => (Number(code) === expected ? sum : sum + n),
          0,
        );
  latencies.sort((a, b) => a - b);
  return {
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p999: percentile(latencies, 0.999),
    max: latencies.at(-1) ?? 0,
    errors: result.errors + unexpected,
    statusCodes,
    cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : 0,
  } satisfies RunResult;
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}
