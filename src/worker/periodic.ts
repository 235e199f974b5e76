import type { Logger } from 'pino';

/**
 * Runs `run` every `intervalMs` (not keeping the process alive), logging a failed run as a warning
 * (the next run retries). Returns the way to stop it.
 */
export function every(
  intervalMs: number,
  run: () => Promise<unknown>,
  logger: Logger,
  what: string,
): () => void {
  const timer = setInterval(() => {
    run().catch((error: unknown) => {
      logger.warn({ err: error }, `${what} failed; the next run retries`);
    });
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
