import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeVariables } from '../../src/config.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('the README stays true', () => {
  it('documents every configuration variable the service reads', () => {
    const missing = describeVariables()
      .map((v) => v.name)
      .filter((name) => !readme.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });

  it('shows the quick start commands', () => {
    for (const command of ['npm ci', 'npm start', 'npm test']) assert.ok(readme.includes(command), command);
  });
});
