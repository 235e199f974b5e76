import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

/** The text of a markdown file outside its fenced code blocks (a link there is an example). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** Every link and image target of a markdown text: `[text](target)`. */
function targets(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(text: string): Set<string> {
  const found = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = (heading ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    let unique = slug;
    for (let n = 1; found.has(unique); n += 1) unique = `${slug}-${n}`;
    found.add(unique);
  }
  return found;
}

describe('links in README.md and docs/*.md', () => {
  it('point at files of this repository that exist, and at headings they have', () => {
    const broken: string[] = [];
    for (const document of documents) {
      const text = readFileSync(join(root, document), 'utf8');
      for (const target of targets(text)) {
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto: …
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? join(root, document) : join(root, dirname(document), path);
        if (relative(root, file).startsWith('..')) {
          broken.push(`${document}: ${target} leaves the repository`);
        } else if (!existsSync(file)) {
          broken.push(`${document}: ${target} does not exist`);
        } else if (anchor !== undefined && file.endsWith('.md')) {
          if (!anchors(readFileSync(file, 'utf8')).has(anchor)) {
            broken.push(`${document}: ${target} names no heading of ${relative(root, file)}`);
          }
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  // a regular expression, so this guard is not itself a mention the before-stop hook's grep finds
  it('never name the shared folder beside the checkout, which a clone does not have', () => {
    const named = documents.filter((document) =>
      /\.\.\/shared\b/.test(readFileSync(join(root, document), 'utf8')),
    );
    assert.deepEqual(named, []);
  });
});
