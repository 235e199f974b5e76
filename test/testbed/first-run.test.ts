import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

/**
 * What a newcomer's `npm test` does before any test: provisions the browser or stops with one
 * line naming what to install. The runner is started as `npm test` starts it.
 */
describe('npm test on a machine without the browser', () => {
  it('stops before any test runs, with one line saying what to install', () => {
    const missing = join(root, '.data', 'no-such-dir', 'chromium');
    const run = spawnSync(process.execPath, ['scripts/run-tests.ts', 'test/unit/readme.test.ts'], {
      cwd: root,
      env: { ...process.env, CHROMIUM_PATH: missing },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] ?? '', new RegExp(`CHROMIUM_PATH=${missing} is not an executable`));
    assert.match(lines[0] ?? '', /Debian's chromium/);
    // neither the test bed nor any test file ran
    assert.equal(run.stdout, '');
  });

  it("as a user who cannot install it: Debian's browser hidden, one line naming the package", (t) => {
    // hides /usr/bin/chromium behind a non-executable file in a mount namespace of this run alone
    // (that takes root), then runs `npm test`'s runner as `nobody`, who cannot apt-get
    if (process.getuid?.() !== 0) {
      t.skip('hiding the browser in a mount namespace needs root');
      return;
    }
    const stand = join(mkdtempSync(join(tmpdir(), 'no-browser-')), 'chromium');
    writeFileSync(stand, '', { mode: 0o644 });
    const runner = `${process.execPath} scripts/run-tests.ts test/unit/readme.test.ts`;
    const run = spawnSync(
      'unshare',
      ['-m', 'sh', '-c', `mount --bind ${stand} /usr/bin/chromium && exec runuser -u nobody -- ${runner}`],
      { cwd: root, env: { ...process.env, CHROMIUM_PATH: '' }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] ?? '', /need Chromium at \/usr\/bin\/chromium: install Debian's package chromium/);
    assert.equal(run.stdout, '');
  });

  it('goes on when the browser is there', () => {
    const run = spawnSync('bash', ['scripts/testbed/ensure-browser.sh'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
  });
});
