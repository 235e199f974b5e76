import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openEmbeddedStorage } from '../../src/adapters/sqlite/embedded-storage.ts';
import type { SeedSink } from './seed.ts';

/**
 * Seeds the embedded store through its own adapter (`TransactionStore.insert`: record, audit
 * line, outbox event and pending marker in one SQLite transaction), then does what the relay and
 * the projector would: marks the batch's events published and, for a steady state, clears the
 * markers. The store is built in a staging directory on tmpfs when there is one and copied into
 * `dataDir` when closed: the adapter commits every write with an fsync (synchronous=FULL), which
 * would make a million-row seed take a quarter of an hour; the file is the same either way.
 */
export async function seedEmbedded<T>(
  dataDir: string,
  mode: 'steady' | 'backlog',
  work: (sink: SeedSink) => Promise<T>,
): Promise<T> {
  const staging = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/fido-bench-') : dataDir;
  const storage = await openEmbeddedStorage(staging);
  const now = new Date();
  const sink: SeedSink = {
    stats: storage.stats,
    async insertBatch(writes) {
      for (const write of writes) await storage.transactions.insert(write);
      const published = await storage.outbox.pending(writes.length);
      await storage.outbox.markPublished(
        published.map((entry) => entry.id),
        now,
      );
      if (mode === 'steady') {
        await storage.stats.clearPending(
          writes.map(({ record }) => ({ userId: record.userId, transactionId: record.id, version: 1 })),
        );
      }
    },
    close: () => storage.close(),
  };
  try {
    return await work(sink);
  } finally {
    await storage.close();
    if (staging !== dataDir) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      for (const file of ['fido.sqlite', 'fido.sqlite-wal']) {
        if (existsSync(join(staging, file))) copyFileSync(join(staging, file), join(dataDir, file));
      }
      rmSync(staging, { recursive: true, force: true });
    }
  }
}
