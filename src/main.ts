import { pino } from 'pino';
import { loadConfigOrExit } from './config.ts';
import { loggerOptions } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';
import { startTracingFromEnv } from './telemetry/start-tracing.ts';

/** Entry point: validates config, builds dependencies, runs the role, stops cleanly on signals. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // before the modules it instruments load (imported below); off unless OTEL_EXPORTER_OTLP_ENDPOINT
  const tracing = await startTracingFromEnv({
    role: config.role,
    sampleRatios: config.traceSampleRatios,
  });
  const [{ buildDeps }, { buildApp }, { buildOpsApp }, { startWorker }] = await Promise.all([
    import('./deps.ts'),
    import('./http/app.ts'),
    import('./http/ops-app.ts'),
    import('./worker/worker.ts'),
  ]);
  const logger = pino(loggerOptions(config.logLevel));
  const deps = await buildDeps(config, logger);
  const worker = config.role === 'api' ? null : await startWorker(deps);
  // a worker serves only health and metrics, on its own port so it can share a host with an API
  const app = config.role === 'worker' ? await buildOpsApp(deps) : await buildApp(deps);
  const port = config.role === 'worker' ? config.metricsPort : config.port;
  // with PORT=0 the address says which port was taken (process supervisors and tests read it)
  const address = await app.listen({ host: config.host, port });
  logger.info({ role: config.role, address }, 'started');

  stopOnSignals({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: [
      // readiness fails first while requests are still served, until the load balancers have
      // seen it (their health-check period × failures); then no new connection comes our way
      {
        name: 'withdraw',
        run: async () => {
          deps.withdraw();
          await new Promise((resolve) => setTimeout(resolve, config.shutdownWithdrawMs));
        },
      },
      // refuses new requests (503) and waits for the in-flight ones
      {
        name: 'http',
        run: async () => {
          await app.close();
        },
      },
      // finishes and commits the batch in hand, stops webhook sends, flushes the outbox
      { name: 'worker', run: async () => worker?.stop() },
      { name: 'clients', run: () => deps.close() },
      // last, so the spans of every step before are exported
      { name: 'traces', run: () => tracing.shutdown() },
    ],
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
