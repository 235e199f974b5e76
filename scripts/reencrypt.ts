/**
 * `npm run reencrypt`: re-seals every value at rest under the current encryption key (the first in
 * ENCRYPTION_KEYS) while the service keeps serving. Run it with the service's environment after
 * every instance runs with the new key list; exit 0 means no value is left under an old key, so
 * the old key may be removed. Ctrl-C stops between two values; running it again continues.
 */
import { pino } from 'pino';
import { loadConfigOrExit } from '../src/config.ts';
import { buildDeps } from '../src/deps.ts';
import { loggerOptions } from '../src/logger.ts';
import { reencrypt, type ReencryptProgress } from '../src/reencrypt/reencrypt.ts';

const config = loadConfigOrExit();
const logger = pino(loggerOptions(config.logLevel), pino.destination(2));
// Installed first: a stop while connecting still ends the run cleanly, between two values.
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    controller.abort();
  });
}
const deps = await buildDeps(config, logger).catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

const tty = process.stderr.isTTY;
const shown = { at: 0, any: false };
function show(p: ReencryptProgress): void {
  const now = Date.now();
  if (now - shown.at < (tty ? 100 : 2000)) return;
  shown.at = now;
  shown.any = true;
  const percent = p.total === 0 ? 100 : Math.min(100, Math.floor((p.seen * 100) / p.total));
  const line = `pass ${p.pass}: ${p.seen}/${p.total} (${percent}%) re-sealed ${p.resealed}, skipped ${p.skipped}, failed ${p.failed}`;
  process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
}

let exitCode = 1;
try {
  const result = await reencrypt(
    { store: deps.storage.reencryption, keyring: deps.keyring },
    { signal: controller.signal, onProgress: show },
  );
  if (shown.any && tty) process.stderr.write('\n');
  for (const failure of result.failures) {
    logger.error({ place: failure.place, reason: failure.reason }, 'value left as it is');
  }
  process.stdout.write(
    `re-encryption to key ${result.keyId}: re-sealed ${result.resealed}, skipped ${result.skipped}, ` +
      `failed ${result.failed}, remaining ${result.remaining} after ${result.passes} pass(es)` +
      `${result.aborted ? ' (stopped; run again to continue)' : ''}\n`,
  );
  exitCode = !result.aborted && result.failed === 0 && result.remaining === 0 ? 0 : 1;
} catch (error) {
  logger.error({ err: error }, 're-encryption failed');
} finally {
  await deps.close();
}
process.exit(exitCode);
