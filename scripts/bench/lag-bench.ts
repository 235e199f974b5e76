import { Agent, request } from 'node:http';
import { percentile } from './load.ts';
import { writeBodies } from './scenarios.ts';

export interface LagResult {
  readonly targetRate: number;
  readonly seconds: number;
  readonly sent: number;
  /** Writes not sent because MAX_IN_FLIGHT were already waiting: the service fell behind. */
  readonly skipped: number;
  readonly acknowledged: number;
  readonly errors: number;
  readonly achievedRate: number;
  /** Milliseconds from a write's 201 to its statistics being saved. */
  readonly lag: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** Acknowledged writes still unprojected at the deadline (their lag is beyond it). */
  readonly unresolved: number;
  /** Median time one look at the pending markers took: the resolution of each lag. */
  readonly resolutionMs: number;
}

const MAX_IN_FLIGHT = 256;

/**
 * End-to-end lag at a fixed write rate. Writes are sent open-loop (on schedule, whether or not
 * earlier ones were answered) to `POST /transactions`; a write's statistics are saved when its
 * pending marker is gone (the projector deletes it only after saving the days it touched). An
 * observer reads the set of pending markers in a loop; a write's lag is the time from its 201 to
 * the end of the first look that no longer finds its marker: an upper bound, off by at most one
 * look (`resolutionMs`).
 */
export async function measureLag(options: {
  readonly url: string;
  readonly token: string;
  readonly writers: readonly string[];
  readonly rate: number;
  readonly seconds: number;
  readonly deadlineS: number;
  /** Transaction ids whose pending marker exists now. */
  readonly pendingIds: () => Promise<ReadonlySet<string>>;
}): Promise<LagResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const awaiting = new Map<string, number>();
  const lags: number[] = [];
  const looks: number[] = [];
  const total = options.rate * options.seconds;
  const counts = { sent: 0, skipped: 0, acknowledged: 0, errors: 0, inFlight: 0, lastAckAt: 0 };
  const nextBody = writeBodies(options.writers, 8);

  const write = () => {
    counts.inFlight += 1;
    const body = nextBody();
    post(agent, `${options.url}/api/v1/transactions`, options.token, body).then(
      ({ status, text }) => {
        counts.inFlight -= 1;
        const id = status === 201 ? (JSON.parse(text) as { id?: unknown }).id : undefined;
        if (typeof id !== 'string') {
          counts.errors += 1;
          return;
        }
        counts.acknowledged += 1;
        counts.lastAckAt = performance.now();
        awaiting.set(id, counts.lastAckAt);
      },
      () => {
        counts.inFlight -= 1;
        counts.errors += 1;
      },
    );
  };

  const started = performance.now();
  const sender = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate));
    while (counts.sent + counts.skipped < due) {
      if (counts.inFlight >= MAX_IN_FLIGHT) counts.skipped += 1;
      else {
        counts.sent += 1;
        write();
      }
    }
    if (counts.sent + counts.skipped >= total) clearInterval(sender);
  }, 5);

  const deadline = started + (options.seconds + options.deadlineS) * 1000;
  const writing = () => counts.sent + counts.skipped < total || counts.inFlight > 0;
  while ((writing() || awaiting.size > 0) && performance.now() < deadline) {
    const lookStart = performance.now();
    const pending = await options.pendingIds();
    const lookEnd = performance.now();
    looks.push(lookEnd - lookStart);
    for (const [id, ackAt] of awaiting) {
      if (!pending.has(id)) {
        lags.push(lookEnd - ackAt);
        awaiting.delete(id);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  clearInterval(sender);
  agent.destroy();
  const writingSeconds = Math.max(options.seconds, (counts.lastAckAt - started) / 1000);
  lags.sort((a, b) => a - b);
  looks.sort((a, b) => a - b);
  return {
    targetRate: options.rate,
    seconds: options.seconds,
    sent: counts.sent,
    skipped: counts.skipped,
    acknowledged: counts.acknowledged,
    errors: counts.errors,
    achievedRate: counts.acknowledged / writingSeconds,
    lag: {
      p50: percentile(lags, 0.5),
      p99: percentile(lags, 0.99),
      p999: percentile(lags, 0.999),
      max: lags.at(-1) ?? 0,
    },
    unresolved: awaiting.size,
    resolutionMs: percentile(looks, 0.5),
  };
}

function post(agent: Agent, url: string, token: string, body: string) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
