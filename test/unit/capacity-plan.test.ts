import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ASSUMPTIONS, plan, type Measured } from '../../scripts/capacity/plan.ts';

const measured: Measured = {
  source: 'fixture',
  apiCpuUs: { create: 1_000, cachedRead: 100, uncachedRead: 500 },
  workerCpuUsPerEvent: 200,
  storeOpsPerCreate: { writes: 6, reads: 1, source: 'fixture' },
  bytes: { head: 300, version: 900, dayEntry: 80, daysPerTransaction: 0.5 },
};

/** The cells of a row of the markdown table, by its label. */
function row(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${label}`));
  assert.ok(line, `no row ${label}`);
  return line
    .split('|')
    .slice(2, -1)
    .map((c) => c.trim());
}

describe('capacity plan', () => {
  it('sizes the API from CPU per request at peak over the planned utilisation', () => {
    const a = { ...ASSUMPTIONS, peakFactor: 1, changesPerCreate: 0, readsPerWrite: 0, utilisation: 0.5 };
    // 86,400,000 a day = 1,000 creates/s × 1,000 µs = 1 vCPU of work, 2 at 50 %
    const table = plan(measured, a, [86_400_000]);
    assert.deepEqual(row(table, 'API instances'), ['2 (2.0 vCPU of work)']);
    assert.deepEqual(row(table, 'worker instances'), ['2 (0.4 vCPU)']);
  });

  it('grows instances, partitions, shards and storage with the volume; cost per million falls or holds', () => {
    const table = plan(measured, ASSUMPTIONS, [1e7, 1e9]);
    const first = (cell: string) => Number((cell.split(' ')[0] ?? '').replace(/[$,]/g, ''));
    for (const label of ['API instances', 'worker instances', 'MongoDB shards', 'MongoDB data per year']) {
      const [small = '', large = ''] = row(table, label);
      assert.ok(first(large) > first(small), `${label}: ${small} -> ${large}`);
    }
    const [small = '', large = ''] = row(table, 'cost per million');
    assert.ok(first(large) <= first(small), `cost per million ${small} -> ${large}`);
    // 1e9 a day × 365 × (300 + 900 + indexes + 80 × 0.5) bytes
    const bytes = 1e9 * 365 * (300 + 900 + ASSUMPTIONS.indexBytesPerTransaction + 40);
    assert.equal(row(table, 'MongoDB data per year')[1]?.split(' ')[0], (bytes / 1e12).toFixed(2));
  });

  it('`npm run capacity` builds the table from the committed benchmark figures', () => {
    const root = join(import.meta.dirname, '..', '..');
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'capacity', 'model.ts')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /\| MongoDB shards \(replica sets of 3\) \| \d+/);
    assert.match(run.stdout, /bytes per transaction: head \d+/);
  });
});
