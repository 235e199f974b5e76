import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The boundaries of eslint.config.js, shown on real files: each plants one forbidden import into a
 * file of the layer and lints it as `npm run lint` would (same config, same path), then lints the
 * file untouched, so a rule that fires on everything would fail too.
 */
const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function restrictedImports(file: string, planted: string): Promise<string[]> {
  const source = readFileSync(join(root, file), 'utf8');
  const [result] = await eslint.lintText(`${planted}\n${source}`, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases = [
  {
    file: 'src/transactions/transactions.service.ts',
    planted: "import { openMongoStorage } from '../adapters/mongo/mongo-storage.ts';",
    says: /adapters\/ is an adapter: only the composition root/,
  },
  {
    file: 'src/analytics/analytics.service.ts',
    planted: "import { buildApp } from '../http/app.ts';",
    says: /http\/ is the HTTP entry point/,
  },
  {
    file: 'src/alerts/alert-store.port.ts',
    planted: "import { startWorker } from '../worker/worker.ts';",
    says: /worker\/ is the worker entry point/,
  },
  {
    file: 'src/adapters/redis/redis-cache.ts',
    planted: "import { buildApp } from '../../http/app.ts';",
    says: /http\/ is the HTTP entry point/,
  },
  {
    file: 'src/transactions/transactions.routes.ts',
    planted: "import { createMemoryCacheStore } from '../adapters/memory/memory-cache.ts';",
    says: /adapters\/ is an adapter/,
  },
  {
    file: 'src/worker/worker.ts',
    planted: "import { buildApp } from '../http/app.ts';",
    says: /http\/ is the HTTP entry point/,
  },
];

describe('npm run lint enforces the boundaries', () => {
  for (const { file, planted, says } of cases) {
    it(`refuses ${planted.replace(/^import .* from /, '')} in ${file}`, async () => {
      const messages = await restrictedImports(file, planted);
      assert.equal(messages.length, 1, messages.join('\n'));
      assert.match(messages[0] ?? '', says);
      assert.deepEqual(await restrictedImports(file, ''), []);
    });
  }

  it('lets the composition root pick adapters', async () => {
    assert.deepEqual(
      await restrictedImports(
        'src/deps.ts',
        "import { createMemoryCacheStore } from './adapters/memory/memory-cache.ts';",
      ),
      [],
    );
  });
});
