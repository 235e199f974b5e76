import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRepoFile } from './compose-project.ts';
import { buildContext, checkoutFiles, ignored, parseDockerignore } from './docker-context.ts';

// What `docker build .` sends from this checkout: the image test builds from exactly this.
describe('the Docker build context', () => {
  it('holds the manifests, the TypeScript configs, src/, config/ and the build script, nothing else', () => {
    const context = buildContext(readRepoFile('.dockerignore'));
    const tops = [...new Set(context.map((f) => (f.includes('/') ? `${f.split('/')[0] ?? ''}/` : f)))].sort();
    assert.deepEqual(tops, [
      'config/',
      'package-lock.json',
      'package.json',
      'scripts/',
      'src/',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    assert.deepEqual(
      context.filter((f) => f.startsWith('scripts/')),
      ['scripts/copy-console.ts'],
    );
    assert.ok(context.includes('src/main.ts') && context.includes('src/console/public/index.html'));
    assert.ok(checkoutFiles().includes('README.md') && !context.includes('README.md'));
  });

  it("matches .dockerignore patterns as Docker does: from the root, whole directories, '!' re-includes", () => {
    const rules = parseDockerignore(
      '# comment\n*.md\n/docs\nscripts\n!scripts/keep.ts\n**/*.log\nsrc/**/secret?\n',
    );
    const cases: [string, boolean][] = [
      ['README.md', true],
      ['src/notes.md', false], // `*.md` is the root's only
      ['docs/a/b.png', true], // a directory's pattern takes everything in it
      ['scripts/other.ts', true],
      ['scripts/keep.ts', false],
      ['a/b/c.log', true],
      ['src/x/y/secret1', true],
      ['src/x/secret12', false],
      ['package.json', false],
    ];
    for (const [path, excluded] of cases) assert.equal(ignored(rules, path), excluded, path);
  });
});
