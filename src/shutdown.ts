import type { Logger } from 'pino';

export interface ShutdownStep {
  readonly name: string;
  readonly run: () => Promise<void>;
}

/**
 * On SIGTERM or SIGINT, runs the steps in order (each one after the previous settled, so the
 * HTTP side drains before the worker stops and clients close last), then exits: 0 when every step
 * succeeded, 1 when one failed (the later steps still run: a failed drain must not leave
 * connections open) or when the whole sequence outlived `timeoutMs`. A second signal of the
 * same kind gets its default action (a second Ctrl-C ends the process at once).
 */
export function stopOnSignals(options: {
  readonly logger: Logger;
  readonly timeoutMs: number;
  readonly steps: readonly ShutdownStep[];
}): void {
  const { logger } = options;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: options.timeoutMs }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, options.timeoutMs);
    force.unref();
    void runSteps(options.steps, logger).then((ok) => {
      logger.info({ ok }, 'stopped');
      process.exit(ok ? 0 : 1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function runSteps(steps: readonly ShutdownStep[], logger: Logger): Promise<boolean> {
  let ok = true;
  for (const step of steps) {
    const started = Date.now();
    try {
      await step.run();
      logger.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
    } catch (error) {
      ok = false;
      logger.error({ err: error, step: step.name }, 'shutdown step failed');
    }
  }
  return ok;
}
