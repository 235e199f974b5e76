import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeVariables } from '../../src/config.ts';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
/** The configuration reference the README links: every variable with its default. */
const configuration = readFileSync(join(root, 'docs', 'CONFIGURATION.md'), 'utf8');

/** The commands of the quick start's first shell block, comments dropped. */
function quickStartCommands(): string[] {
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return commands(block);
}

/** The command lines of a shell text: no comments, blanks, `set` or `cd` (the script's frame). */
function commands(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '' && !/^(set|cd)\b/.test(line));
}

describe('the README stays true', () => {
  it('documents every configuration variable the service reads (docs/CONFIGURATION.md, linked)', () => {
    assert.ok(readme.includes('](docs/CONFIGURATION.md)'));
    const missing = describeVariables()
      .map((v) => v.name)
      .filter((name) => !configuration.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });

  it('shows the quick start commands', () => {
    assert.deepEqual(quickStartCommands(), ['npm ci', 'npm start', 'npm test']);
  });

  it('CI runs exactly the quick start, less the server it would leave running', () => {
    const ci = commands(readFileSync(join(root, '.ci', 'run'), 'utf8').replace(/^#!.*\n/, ''));
    assert.deepEqual(
      ci,
      quickStartCommands().filter((command) => command !== 'npm start'),
    );
  });
});
