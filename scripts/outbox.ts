/**
 * `npm run outbox -- list-quarantined [--limit N]` lists the stored events the relay set aside
 * (they could not be parsed or published; each is also on transactions.v1.dlq with its reason).
 * `npm run outbox -- requeue ID` hands one back to the relays once its stored event is fixed: the
 * relay reads it again and publishes it, or quarantines it again with the new reason. Run with the
 * service's environment (MONGODB_URL, or DATA_DIR for the embedded store). Prints no names: events
 * carry none.
 */
import { pino } from 'pino';
import { loadConfigOrExit } from '../src/config.ts';
import { buildDeps } from '../src/deps.ts';
import { loggerOptions } from '../src/logger.ts';

const USAGE = `usage: npm run outbox -- list-quarantined [--limit N]
       npm run outbox -- requeue ID`;

const [command, ...rest] = process.argv.slice(2);
const fail = (message: string, code = 2): never => {
  process.stderr.write(`${message}\n`);
  process.exit(code);
};
if (command !== 'list-quarantined' && command !== 'requeue') fail(USAGE);
const limitArg = rest[0] === '--limit' ? Number(rest[1]) : 100;
if (command === 'list-quarantined' && !(Number.isInteger(limitArg) && limitArg > 0)) fail(USAGE);
const id = rest[0];
if (command === 'requeue' && (id === undefined || id === '' || rest.length > 1)) fail(USAGE);

const config = loadConfigOrExit();
const logger = pino(loggerOptions(config.logLevel), pino.destination(2));
const deps = await buildDeps(config, logger).catch((error: unknown) =>
  fail(`fatal: ${error instanceof Error ? error.message : String(error)}`, 1),
);

let exitCode = 1;
try {
  if (command === 'list-quarantined') {
    const rows = await deps.storage.outbox.quarantined(limitArg);
    if (rows.length === 0) process.stdout.write('no quarantined events\n');
    for (const row of rows) {
      process.stdout.write(`${row.id}\t${row.at.toISOString()}\tuser ${row.userId ?? '?'}\t${row.reason}\n`);
    }
    exitCode = 0;
  } else if (id !== undefined) {
    if (await deps.storage.outbox.requeue(id)) {
      process.stdout.write(`requeued ${id}: the relay owning its partition publishes it on its next poll\n`);
      exitCode = 0;
    } else {
      process.stderr.write(
        `no quarantined event with id ${id} (unknown, or already requeued); ` +
          'see: npm run outbox -- list-quarantined\n',
      );
    }
  }
} catch (error) {
  logger.error({ err: error }, 'outbox command failed');
} finally {
  await deps.close();
}
process.exit(exitCode);
