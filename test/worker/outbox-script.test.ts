import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../src/adapters/sqlite/embedded-storage.ts';
import { aRecord, creation } from '../contracts/storage.contract.ts';
import { TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET } from '../helpers.ts';

/** `npm run outbox`: what an operator runs to see quarantined events and hand one back. */

const dataDir = await mkdtemp(join(tmpdir(), 'fido-outbox-cli-'));
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function outboxCommand(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['scripts/outbox.ts', ...args],
      {
        env: {
          PATH: process.env.PATH,
          DATA_DIR: dataDir,
          LOG_LEVEL: 'silent',
          ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
          JWT_SECRET: TEST_JWT_SECRET,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
      },
    );
  });
}

const setPayloadType = (from: string, to: string) => {
  const db = new DatabaseSync(join(dataDir, 'fido.sqlite'), { timeout: 5000 });
  try {
    db.prepare('UPDATE outbox SET payload = replace(payload, ?, ?)').run(
      `"type":"${from}"`,
      `"type":"${to}"`,
    );
  } finally {
    db.close();
  }
};

void describe('npm run outbox', () => {
  void it(
    'lists a quarantined event, refuses an unknown id clearly, and requeues the fixed one',
    { timeout: 120_000 },
    async () => {
      const storage = await openEmbeddedStorage(dataDir, { outboxPartition: () => 0 });
      try {
        const record = aRecord();
        await storage.transactions.insert(creation(record));
        setPayloadType('transaction.created', 'transaction.archived');
        // what the relay does with it (test/worker/outbox-relay.test.ts)
        const [entry] = await storage.outbox.pending(10);
        assert.ok(entry && 'unreadable' in entry);
        await storage.outbox.quarantine([{ id: entry.id, reason: entry.unreadable.reason }], new Date());

        const listed = await outboxCommand('list-quarantined');
        assert.equal(listed.code, 0, listed.stderr);
        const [line, ...others] = listed.stdout.trim().split('\n');
        assert.deepEqual(others, []);
        assert.ok(line !== undefined && line.startsWith(`${entry.id}\t`), line);
        assert.ok(line.includes(`user ${record.userId}`) && line.includes(entry.unreadable.reason), line);

        const unknown = await outboxCommand('requeue', '999999');
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no quarantined event with id 999999/);
        assert.equal((await outboxCommand('requeue')).code, 2, 'usage without an id');
        assert.equal((await outboxCommand('frobnicate')).code, 2);

        setPayloadType('transaction.archived', 'transaction.created');
        const requeued = await outboxCommand('requeue', entry.id);
        assert.equal(requeued.code, 0, requeued.stderr);
        assert.match(requeued.stdout, new RegExp(`^requeued ${entry.id}`));
        const [again] = await storage.outbox.pending(10);
        assert.ok(again && 'event' in again);
        assert.equal(again.event.transactionId, record.id);
        assert.equal((await outboxCommand('list-quarantined')).stdout, 'no quarantined events\n');
      } finally {
        await storage.close();
      }
    },
  );
});
