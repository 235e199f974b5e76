/**
 * The worker role exactly as `src/main.ts` runs it (same config, composition root and
 * `startWorker`), plus a report to the parent over IPC every 50 ms: the worker's own count of
 * projected events and its CPU time. The worker role serves no HTTP, so this is how the drain
 * benchmark watches it without polling the database under test.
 */
import { pino } from 'pino';
import { loadConfigOrExit } from '../../src/config.ts';
import { loggerOptions } from '../../src/logger.ts';
import { startTracingFromEnv } from '../../src/telemetry/start-tracing.ts';

const send = (message: unknown): void => {
  if (process.connected) process.send?.(message);
};

const config = loadConfigOrExit();
// as main.ts does: before the modules it instruments load; nothing unless OTEL_EXPORTER_OTLP_ENDPOINT
const tracing = await startTracingFromEnv({
  role: config.role,
  sampleRatios: config.traceSampleRatios,
});
const { buildDeps } = await import('../../src/deps.ts');
const { startWorker } = await import('../../src/worker/worker.ts');
const logger = pino(loggerOptions(config.logLevel));
const deps = await buildDeps(config, logger);
const report = (subscribed: boolean): void => {
  const cpu = process.cpuUsage();
  send({
    at: Date.now(),
    projected: deps.metrics.get('events_projected_total'),
    cpuMs: (cpu.user + cpu.system) / 1000,
    subscribed,
  });
};
const worker = await startWorker(deps);
// the moment the worker has subscribed: where a drain's clock starts
report(true);
const reporter = setInterval(() => {
  report(false);
}, 50);
send('ready');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  clearInterval(reporter);
  void (async () => {
    await worker.stop();
    await deps.close();
    await tracing.shutdown();
    process.exit(0);
  })();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
