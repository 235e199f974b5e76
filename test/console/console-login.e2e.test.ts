import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../helpers.ts';
import { expectText, launchChromium, SHOTS_DIR, watchPage } from './browser.ts';

describe('the console sign-in code in headless Chromium (embedded default)', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser | undefined; // absent when Chromium is: the run then fails naming the fix
  let origin: string;

  before(async () => {
    // no JWT_SECRET: the service signs with the secret it generated, so it may offer the code
    t = await startApp('embedded', { JWT_SECRET: '' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    origin = `http://127.0.0.1:${address.port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await t.close();
  });

  it('offers the code, names a wrong one next to the field, signs in with the right one', async () => {
    assert.ok(browser);
    const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    page.setDefaultTimeout(15_000);
    const watch = await watchPage(page, origin);
    await page.goto(`${origin}/console`);
    const codeField = page.getByLabel('Sign-in code');
    await codeField.fill('not-the-code');
    await page.getByRole('button', { name: 'Sign in with the code' }).click();
    await expectText(page.locator('#login-code-error'), /not the sign-in code/);
    assert.equal(await codeField.getAttribute('aria-invalid'), 'true');
    await page.screenshot({ path: join(SHOTS_DIR, 'sign-in-code.png') });

    await codeField.fill(readFileSync(join(t.dataDir, 'console-code'), 'utf8').trim());
    await page.getByRole('button', { name: 'Sign in with the code' }).click();
    await expectText(page.getByText(/^Signed in as/), 'Signed in as console (any customer)');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectText(page.getByRole('status'), 'Signed out.');
    assert.equal(await page.getByLabel('Access token').isVisible(), true);
    assert.equal(await page.evaluate<number>('sessionStorage.length'), 0, 'signing out forgets the token');
    assert.deepEqual(watch.errors, []);
    assert.deepEqual(await watch.cspViolations(), []);
    assert.deepEqual(watch.foreignRequests, []);
  });
});
