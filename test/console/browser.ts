import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { eventually } from '../helpers.ts';

/**
 * The browser the end-to-end tests drive (playwright-core downloads none): Debian's Chromium, which
 * `npm test` installs when missing (scripts/testbed/ensure-browser.sh), or the one CHROMIUM_PATH names.
 */
export const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium'; // empty means unset, as in ensure-browser.sh
/** Where the test run leaves its screenshots (git-ignored). */
export const SHOTS_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'console');

/** Headless, no sandbox (CI runs as root), and no call home of any kind. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A missing browser fails the run loudly, naming the fix (never a silent skip). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: \`npm test\` installs Debian's chromium (scripts/testbed/ensure-browser.sh); run the tests through it`,
    );
  }
  mkdirSync(SHOTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
}

/** What a page did that it must not: uncaught errors, CSP violations, requests off this origin. */
export interface PageWatch {
  readonly errors: string[];
  readonly cspViolations: () => Promise<string[]>;
  readonly foreignRequests: string[];
}

export async function watchPage(page: Page, origin: string): Promise<PageWatch> {
  const errors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) foreignRequests.push(url);
  });
  // injected by the browser driver, outside the page's CSP, before any of the page's code runs.
  // Code for the page is given as text here: this project is type-checked against Node, not the DOM.
  await page.addInitScript({
    content:
      'window.cspViolations = []; document.addEventListener("securitypolicyviolation", ' +
      '(e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));',
  });
  return {
    errors,
    foreignRequests,
    cspViolations: () => page.evaluate<string[]>('window.cspViolations ?? []'),
  };
}

/** Waits until the locator's rendered text (whitespace collapsed) is `expected`; a bounded poll. */
export async function expectText(
  locator: Locator,
  expected: string | RegExp,
  timeoutMs = 15_000,
): Promise<void> {
  let last = '';
  try {
    await eventually(async () => {
      // innerText: what is rendered, with cells apart (textContent runs them together)
      last = (
        (await locator
          .first()
          .innerText({ timeout: 1_000 })
          .catch(() => null)) ?? ''
      )
        .replace(/\s+/g, ' ')
        .trim();
      return (typeof expected === 'string' ? last === expected : expected.test(last)) ? true : undefined;
    }, timeoutMs);
  } catch {
    throw new Error(`expected ${String(expected)} but the page shows ${JSON.stringify(last)}`);
  }
}

/** The value shown next to a term of a description list (the analytics figures). */
export const figure = (scope: Locator, term: string): Locator =>
  scope
    .locator('dl > div')
    .filter({ has: scope.page().locator('dt', { hasText: new RegExp(`^${term}$`) }) })
    .locator('dd');

/** The page scrolls sideways: its content is wider than the viewport. */
export const overflowsHorizontally = (page: Page): Promise<boolean> =>
  page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');

const CONTRAST_CHECK = readFileSync(join(import.meta.dirname, 'contrast.js'), 'utf8');

/** Visible text below WCAG AA contrast against its background (see contrast.js); empty is the pass. */
export const contrastFailures = (page: Page): Promise<string[]> => page.evaluate<string[]>(CONTRAST_CHECK);
