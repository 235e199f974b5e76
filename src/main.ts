import { pino } from 'pino';
import { loadConfigOrExit } from './config.ts';
import { buildDeps } from './deps.ts';
import { buildApp } from './http/app.ts';
import { buildOpsApp } from './http/ops-app.ts';
import { loggerOptions } from './logger.ts';
import { startWorker } from './worker/worker.ts';

/** Entry point: validates config, builds dependencies, runs the role, stops cleanly on signals. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = pino(loggerOptions(config.logLevel));
  const deps = await buildDeps(config, logger);
  const worker = config.role === 'api' ? null : await startWorker(deps);
  if (worker) deps.writeListeners.add(worker.relay.nudge);
  // a worker serves only health and metrics, on its own port so it can share a host with an API
  const app = config.role === 'worker' ? await buildOpsApp(deps) : await buildApp(deps);
  await app.listen({ host: config.host, port: config.role === 'worker' ? config.metricsPort : config.port });
  logger.info({ role: config.role }, 'started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    void (async () => {
      await app.close(); // stops accepting, finishes in-flight requests
      await worker?.stop(); // commits the batch in hand, flushes the outbox
      await deps.close();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.once('SIGINT', () => {
    stop('SIGINT');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
