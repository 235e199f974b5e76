import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './compose-project.ts';

/**
 * The build context `docker build .` sends, without Docker: the files of the checkout (what git
 * tracks or would track: a fresh clone on a build machine holds no more) minus what .dockerignore
 * excludes, matched as Docker's patternmatcher does: patterns are paths from the context root
 * (`*.md` is README.md, not docs/x.md; `**` spans directories), a pattern that matches a
 * directory excludes everything in it, `!pattern` re-includes, and the last matching line wins.
 */

interface Rule {
  readonly negate: boolean;
  readonly regex: RegExp;
}

export function parseDockerignore(text: string): Rule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = clean(negate ? line.slice(1).trim() : line);
      return { negate, regex: globRegex(pattern) };
    });
}

/** filepath.Clean, then the leading slash Docker drops. */
function clean(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** Go's filepath.Match syntax plus Docker's `**`, anchored at the context root. */
function globRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` is any number of directories (none included); a trailing `**` is anything
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`.dockerignore: unclosed [ in ${pattern}`);
      out += `[${pattern.slice(i + 1, end)}]`;
      i = end;
    } else if (c === '\\') out += `\\${pattern[++i] ?? ''}`;
    else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Whether Docker leaves `path` (relative, `/`-separated) out of the context. */
export function ignored(rules: readonly Rule[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.regex.test(p))) excluded = !rule.negate;
  }
  return excluded;
}

/** The files of the checkout that git tracks or would track (untracked, not git-ignored). */
export function checkoutFiles(root = ROOT): string[] {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return [...new Set(listed.stdout.split('\0').filter((f) => f !== ''))].filter((f) => {
    try {
      return lstatSync(join(root, f)).isFile(); // deleted files and stray symlinks are not sent
    } catch {
      return false;
    }
  });
}

/** The build context: the checkout's files that .dockerignore lets through. */
export function buildContext(dockerignore: string, files: readonly string[] = checkoutFiles()): string[] {
  const rules = parseDockerignore(dockerignore);
  return files.filter((f) => !ignored(rules, f));
}
