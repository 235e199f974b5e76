import { loadConfig } from './config.ts';

/**
 * The container's HEALTHCHECK (`node dist/healthcheck.js`): exit 0 when this instance answers
 * GET /health/live, 1 otherwise. It reads the same environment as the service, so it asks the
 * port of the role that runs: PORT for api and all, METRICS_PORT for a worker. Liveness, not
 * readiness: a dependency that is down must not get the container restarted; the load balancer
 * checks readiness.
 */
const TIMEOUT_MS = 2_000;

try {
  const config = loadConfig();
  const port = config.role === 'worker' ? config.metricsPort : config.port;
  // a service bound to every interface answers on loopback
  const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/health/live`;
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  process.exitCode = response.status === 200 ? 0 : 1;
  if (process.exitCode !== 0) process.stderr.write(`${url} answered ${response.status}\n`);
} catch (error) {
  // 1, never 2: Docker reserves exit code 2 of a healthcheck
  process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
