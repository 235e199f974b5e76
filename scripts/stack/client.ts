import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The load's HTTP client, as a careful caller of the service behaves: a request that failed in a
 * way that says "not processed, or not known to be" is retried with the same body and the same
 * Idempotency-Key, with backoff, until a deadline. Every retry is counted by reason; a request
 * that never succeeded is a failure.
 * - 502 from the balancer, or the connection closed with no answer (HAProxy's answer when the
 *   backend broke after a request on a kept-alive connection was sent): it may have been
 *   processed, and the Idempotency-Key makes the retry safe;
 * - 503: an instance shutting down, or no instance ready;
 * - 409 `idempotency_in_flight`: the first attempt of this key died mid-request on a killed
 *   instance; its claim blocks retries until its lock expires (30 s), then the retry completes it;
 * - a connection error before any response.
 */
export interface ClientStats {
  sent: number;
  succeeded: number;
  retried: Record<string, number>;
  failed: { method: string; path: string; status: number | string; body: string }[];
  /** When a request was cut off (a 502 from the balancer, or its connection closed unanswered). */
  cuts: { reason: 'upstream_failed_502' | 'connection_error'; at: number }[];
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** How many earlier attempts of this request were retried. */
  readonly attempts: number;
}

export interface Client {
  readonly stats: ClientStats;
  /**
   * Sends until an answer in `ok` arrives, retrying what may be retried; a 404 after a retried
   * DELETE counts as done (the first attempt deleted it).
   */
  send(method: string, path: string, options: SendOptions): Promise<Answer | null>;
}

export interface SendOptions {
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  readonly ok: readonly number[];
}

const BACKOFF_MS = [50, 100, 200, 400, 800, 1_000];

export function createClient(baseUrl: string, token: string, deadlineMs: number): Client {
  const stats: ClientStats = { sent: 0, succeeded: 0, retried: {}, failed: [], cuts: [] };
  const retry = (reason: string) => {
    stats.retried[reason] = (stats.retried[reason] ?? 0) + 1;
  };

  async function send(method: string, path: string, options: SendOptions): Promise<Answer | null> {
    const deadline = Date.now() + deadlineMs;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    let last: { status: number | string; body: string } = { status: 'none', body: '' };
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      if (attempt > 0) await sleep(BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)]);
      stats.sent++;
      let status: number;
      let text: string;
      try {
        const res = await fetch(`${baseUrl}${path}`, {
          method,
          headers,
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
          signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
        });
        status = res.status;
        text = await res.text();
      } catch (error) {
        last = { status: 'connection', body: error instanceof Error ? error.message : String(error) };
        retry('connection_error');
        stats.cuts.push({ reason: 'connection_error', at: Date.now() });
        continue;
      }
      last = { status, body: text.slice(0, 300) };
      const body = parseJson(text);
      if (options.ok.includes(status) || (status === 404 && method === 'DELETE' && attempt > 0)) {
        stats.succeeded++;
        return { status, body, attempts: attempt };
      }
      if (status === 502) {
        retry('upstream_failed_502');
        stats.cuts.push({ reason: 'upstream_failed_502', at: Date.now() });
      } else if (status === 503) retry('unavailable_503');
      else if (status === 409 && attempt > 0 && codeOf(body) === 'idempotency_in_flight')
        retry('idempotency_in_flight_409');
      else break;
    }
    stats.failed.push({ method, path, ...last });
    return null;
  }

  return { stats, send };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

function codeOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
}
