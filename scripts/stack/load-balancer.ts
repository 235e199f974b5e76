import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small round-robin HTTP load balancer on loopback, for running several API processes on one
 * machine (`npm run stack:local` and its test). Production uses nginx or HAProxy; this one needs
 * no root and no install, and exposes what the scale-out check needs (which backend a failed
 * request was on, and when it started).
 *
 * Behaviour, as nginx's defaults: a backend is skipped while its `/health/ready` fails or refuses
 * connections (polled); a request whose connection is refused (never delivered) is tried on the
 * next backend; a request whose connection breaks after it was sent is answered 502, since it
 * may have been processed and only the client can tell whether to retry. One upstream connection
 * per request (no keep-alive), so a killed backend leaves no stale pooled socket behind.
 */
export interface LoadBalancer {
  readonly url: string;
  /** Requests answered 502 because their backend broke after they were sent. */
  readonly failures: readonly UpstreamFailure[];
  /** Requests being proxied to `backend` now. */
  inFlight(backend: string): number;
  healthy(backend: string): boolean;
  close(): Promise<void>;
}

export interface UpstreamFailure {
  readonly backend: string;
  readonly method: string;
  readonly path: string;
  /** performance.now() when the request reached the balancer. */
  readonly startedAt: number;
  readonly error: string;
}

const HEALTH_EVERY_MS = 200;
const HEALTH_TIMEOUT_MS = 1_000;
const MAX_BODY_BYTES = 1024 * 1024;

export async function startLoadBalancer(backends: readonly string[]): Promise<LoadBalancer> {
  const healthy = new Map(backends.map((b) => [b, true]));
  const inFlight = new Map(backends.map((b) => [b, 0]));
  const failures: UpstreamFailure[] = [];
  let next = 0;

  /** Healthy backends in round-robin order, then the unhealthy ones as a last resort. */
  const candidates = (): string[] => {
    const start = next++ % backends.length;
    const ordered = [...backends.slice(start), ...backends.slice(0, start)];
    return [...ordered.filter((b) => healthy.get(b)), ...ordered.filter((b) => !healthy.get(b))];
  };

  const server = http.createServer((req, res) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        answer(res, 413, 'request body too large for the balancer');
        return;
      }
      const body = Buffer.concat(chunks);
      const attempt = (queue: string[]): void => {
        const backend = queue.shift();
        if (backend === undefined) {
          answer(res, 503, 'no backend accepted the connection');
          return;
        }
        inFlight.set(backend, (inFlight.get(backend) ?? 0) + 1);
        let done = false;
        const settle = () => {
          if (!done) inFlight.set(backend, (inFlight.get(backend) ?? 1) - 1);
          done = true;
        };
        const upstream = http.request(`${backend}${req.url ?? '/'}`, {
          method: req.method,
          headers: {
            ...withoutHopByHop(req.headers),
            connection: 'close',
            'x-forwarded-for': req.socket.remoteAddress,
          },
          agent: false,
        });
        upstream.on('response', (response) => {
          res.writeHead(response.statusCode ?? 502, withoutHopByHop(response.headers));
          response.pipe(res);
          response.on('end', settle);
          response.on('error', () => {
            settle();
            res.destroy();
          });
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          settle();
          if (res.headersSent) {
            res.destroy();
          } else if (error.code === 'ECONNREFUSED') {
            healthy.set(backend, false);
            attempt(queue);
          } else {
            failures.push({
              backend,
              method: req.method ?? '',
              path: req.url ?? '',
              startedAt,
              error: error.code ?? error.message,
            });
            answer(res, 502, `the backend failed before answering (${error.code ?? 'error'})`);
          }
        });
        upstream.end(body);
      };
      attempt(candidates());
    });
  });

  const poll = setInterval(() => {
    for (const backend of backends) {
      const check = http.get(`${backend}/health/ready`, { agent: false, timeout: HEALTH_TIMEOUT_MS }, (r) => {
        healthy.set(backend, r.statusCode === 200);
        r.resume();
      });
      check.on('timeout', () => check.destroy(new Error('health check timed out')));
      check.on('error', () => healthy.set(backend, false));
    }
  }, HEALTH_EVERY_MS);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    failures,
    inFlight: (backend) => inFlight.get(backend) ?? 0,
    healthy: (backend) => healthy.get(backend) ?? false,
    async close() {
      clearInterval(poll);
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/** Headers about one connection (RFC 9110 7.6.1), which a proxy must not forward. */
function withoutHopByHop(headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const hop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hop.has(name)));
}

function answer(res: http.ServerResponse, status: number, detail: string): void {
  const title = status === 502 ? 'Bad gateway' : status === 413 ? 'Payload too large' : 'Service unavailable';
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
