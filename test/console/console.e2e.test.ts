import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, newTransaction, startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';
import {
  contrastFailures,
  expectText,
  figure,
  launchChromium,
  overflowsHorizontally,
  SHOTS_DIR,
  watchPage,
  type PageWatch,
} from './browser.ts';

/** YYYY-MM-DD, `n` UTC days before today. */
const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/**
 * 24 transactions over the last 21 days: a credit of 100.00 on odd days and a debit of 50.00 on
 * even days, and three more on day 3 (100.00 credit, 50.00 debit, and a 5000.00 credit, which
 * raises a large-transaction alert). So: 13 credits = 6200.00, 11 debits = 550.00, average
 * 6750.00 / 24 = 281.25, busiest day 3 days ago with 4.
 */
function seedRows(userId: string): Record<string, unknown>[] {
  const rows = [];
  for (let d = 1; d <= 21; d += 1) {
    const credit = d % 2 === 1;
    rows.push({ d, hour: 10, type: credit ? 'credit' : 'debit', amount: credit ? '100.00' : '50.00' });
  }
  rows.push({ d: 3, hour: 11, type: 'credit', amount: '100.00' });
  rows.push({ d: 3, hour: 12, type: 'debit', amount: '50.00' });
  rows.push({ d: 3, hour: 13, type: 'credit', amount: '5000.00' });
  return rows.map((r) =>
    newTransaction(userId, {
      full_name: 'Abena Owusu',
      transaction_date: `${daysAgo(r.d)}T${r.hour}:00:00Z`,
      transaction_type: r.type,
      transaction_amount: r.amount,
    }),
  );
}

describe('the staff console in headless Chromium', { timeout: 240_000 }, () => {
  let t: TestApp;
  let browser: Browser | undefined; // absent when Chromium is: the run then fails naming the fix
  let page: Page;
  let watch: PageWatch;
  let origin: string;
  const userId = uniqueId('cust');

  before(async () => {
    t = await startApp('embedded', {}, { worker: true });
    browser = await launchChromium();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    origin = `http://127.0.0.1:${address.port}`;
    for (const payload of seedRows(userId)) {
      const res = await t.inject({ method: 'POST', url: '/api/v1/transactions', payload });
      assert.equal(res.statusCode, 201, res.body);
    }
    // the worker raises the alert; the page must find it there
    await eventually(async () => {
      const res = await t.inject({ method: 'GET', url: `/api/v1/users/${userId}/alerts` });
      return res.json().data.length === 1 ? true : undefined;
    }, 30_000);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(15_000);
    watch = await watchPage(page, origin);
  });

  after(async () => {
    await browser?.close();
    await t.close();
  });

  const region = (name: string) => page.getByRole('region', { name, exact: true });
  const shot = (name: string) => page.screenshot({ path: join(SHOTS_DIR, `${name}.png`) });

  it('signs in with a pasted token kept in session storage only; a refused token asks again', async () => {
    await page.goto(`${origin}/console`, { waitUntil: 'networkidle' });
    const tokenField = page.getByLabel('Access token');
    await tokenField.waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
    assert.equal(await page.getByLabel('Customer ID').isVisible(), false);
    assert.equal(
      await page.getByLabel('Sign-in code').isVisible(),
      false,
      'offered on the embedded default only',
    );
    await tokenField.fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectText(page.locator('#token-error'), /not a JWT/);
    assert.equal(await tokenField.getAttribute('aria-invalid'), 'true');
    await shot('sign-in');
    assert.deepEqual(await contrastFailures(page), [], 'text meets WCAG AA contrast');

    // well-formed but signed by someone else: the API refuses it and the page asks again
    const forged = await tokenFor({ sub: 'staff-e2e', scope: 'service', secret: 'x'.repeat(40) });
    await tokenField.fill(forged);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Customer ID').fill(userId);
    await page.getByLabel('Customer ID').press('Enter');
    await expectText(page.locator('#token-error'), /refused the token \(signature invalid\)/);
    assert.equal(await page.evaluate<number>('sessionStorage.length'), 0, 'a refused token is forgotten');

    const token = await tokenFor({ sub: 'staff-e2e', scope: 'service' });
    await tokenField.fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectText(page.getByText(/^Signed in as/), 'Signed in as staff-e2e (any customer)');
    // (code run in the page is text: this project is type-checked against Node, not the DOM)
    const storage = await page.evaluate(
      '({ session: Object.values(sessionStorage), local: localStorage.length, cookies: document.cookie })',
    );
    assert.deepEqual(storage, { session: [token], local: 0, cookies: '' });
  });

  it('looks a customer up with the keyboard alone', async () => {
    await page.reload(); // still signed in: the token outlives a reload of the tab
    await page.evaluate('document.activeElement?.blur()');
    let reached = false;
    for (let presses = 0; presses < 6 && !reached; presses += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate<boolean>('document.activeElement?.id === "user-id"');
    }
    assert.ok(reached, 'Tab reaches the Customer ID field within a few presses');
    await page.keyboard.type(userId);
    await page.keyboard.press('Enter');
    await expectText(page.getByRole('heading', { level: 2, name: /^Customer / }), `Customer ${userId}`);
    assert.ok(new URL(page.url()).searchParams.get('user') === userId, 'the view can be reloaded');
  });

  it('shows the analytics, credit score and alerts the API gives', async () => {
    const analytics = region('Analytics');
    await expectText(figure(analytics, 'Transactions'), '24');
    await expectText(figure(analytics, 'Average value'), '281.25 GHS');
    await expectText(figure(analytics, 'Busiest day'), `${daysAgo(3)} (4)`);
    await expectText(figure(analytics, 'Total credit'), '6,200.00 GHS');
    await expectText(figure(analytics, 'Total debit'), '550.00 GHS');
    await expectText(analytics.getByText(/^As of /), /^As of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);

    const score = (await t.inject({ method: 'GET', url: `/api/v1/users/${userId}/credit-score` })).json<{
      score: number;
      band: string;
      factors: { contribution: number }[];
    }>();
    const scorePanel = region('Credit score');
    await expectText(scorePanel.locator('.score-value'), String(score.score));
    await expectText(scorePanel.locator('.band'), new RegExp(`^${score.band}$`, 'i')); // shown capitalised
    const rows = scorePanel.getByRole('row');
    assert.equal(await rows.count(), score.factors.length + 1);
    for (const [i, factor] of score.factors.entries()) {
      await expectText(
        rows
          .nth(i + 1)
          .getByRole('cell')
          .nth(1),
        String(factor.contribution),
      );
    }

    const alerts = region('Alerts');
    await expectText(
      alerts.getByRole('listitem'),
      /Large transaction.*amount 5,000\.00 GHS, threshold ≥ 5,000\.00 GHS/,
    );

    const chart = region('Transactions per day');
    assert.match(
      String(await chart.getByRole('img').getAttribute('aria-label')),
      new RegExp(`24 transactions from ${daysAgo(29)} to ${daysAgo(0)}; busiest day ${daysAgo(3)} with 4`),
    );
    await expectText(chart.getByRole('row', { name: /^Credits/ }), 'Credits (13) 6,200.00 GHS');
    await expectText(chart.getByRole('row', { name: /^Debits/ }), 'Debits (11) 550.00 GHS');
    // the customer view from the top down to the chart: the README's picture (docs/console.png)
    const box = await chart.boundingBox();
    assert.ok(box !== null);
    await page.screenshot({
      path: join(SHOTS_DIR, 'customer.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: box.y + box.height + 16 },
    });
    await chart.getByText('Chart data as a table').click();
    await expectText(chart.getByRole('row', { name: daysAgo(3) }), `${daysAgo(3)} 3 1 4`);
  });

  it('pages the history, newest first, and filters it by type', async () => {
    const history = region('History');
    const table = history.getByRole('table');
    await expectText(table.locator('caption'), /^Page 1/);
    const bodyRows = table.locator('tbody tr');
    assert.equal(await bodyRows.count(), 20);
    await expectText(
      bodyRows.first(),
      new RegExp(`^${daysAgo(1)} 10:00 UTC credit 100\\.00 GHS Abena Owusu`),
    );
    assert.equal(await history.getByRole('button', { name: 'Newer' }).isDisabled(), true);

    await history.getByRole('button', { name: 'Older' }).click();
    await expectText(table.locator('caption'), /^Page 2/);
    assert.equal(await bodyRows.count(), 4);
    await expectText(bodyRows.last(), new RegExp(`^${daysAgo(21)} 10:00 UTC credit 100\\.00 GHS`));
    assert.equal(await history.getByRole('button', { name: 'Older' }).isDisabled(), true);
    await shot('history-page-2');
    // page 1 again: the console asks with the ETag it kept and shows its copy on a 304
    const revalidated = page.waitForResponse(
      (r) => r.url().includes(`/users/${userId}/transactions`) && r.status() === 304,
    );
    await history.getByRole('button', { name: 'Newer' }).click();
    const notModified = await revalidated;
    assert.match(String(await notModified.request().headerValue('if-none-match')), /^"[^"]+"$/);
    await expectText(table.locator('caption'), /^Page 1/);
    assert.equal(await bodyRows.count(), 20);
    await expectText(
      bodyRows.first(),
      new RegExp(`^${daysAgo(1)} 10:00 UTC credit 100\\.00 GHS Abena Owusu`),
    );

    await history.getByLabel('Type').selectOption('debit');
    await eventually(async () => ((await bodyRows.count()) === 11 ? true : undefined));
    assert.deepEqual(
      new Set(await table.locator('tbody td[data-label="Type"]').allTextContents()),
      new Set(['debit']),
    );
    await history.getByLabel('Type').selectOption('');
    await eventually(async () => ((await bodyRows.count()) === 20 ? true : undefined));
  });

  it('shows the API’s field error, then creates, edits and deletes a transaction', async () => {
    const editor = region('New transaction');
    await editor.getByLabel('Full name').fill('Abena Owusu');
    await editor.getByLabel('Date and time (UTC)').fill(`${daysAgo(0)}T00:00:00`);
    await editor.getByLabel('Amount').fill('12.345');
    await editor.getByRole('button', { name: 'Save transaction' }).click();
    const amount = editor.getByLabel('Amount');
    await eventually(async () => ((await amount.getAttribute('aria-invalid')) === 'true' ? true : undefined));
    await expectText(
      page.locator('#tx-transaction-amount-error'),
      'must have at most 2 decimal places for GHS',
    );
    assert.match(String(await amount.getAttribute('aria-describedby')), /tx-transaction-amount-error/);
    await editor.screenshot({ path: join(SHOTS_DIR, 'field-error.png') });
    // the fullest the view gets: figures, score, alerts, chart, history and an error on show
    assert.deepEqual(await contrastFailures(page), [], 'text meets WCAG AA contrast');

    await amount.fill('12.34');
    await editor.getByRole('button', { name: 'Save transaction' }).click();
    await expectText(page.getByRole('status'), 'Transaction created.');
    const analytics = region('Analytics');
    await expectText(figure(analytics, 'Transactions'), '25');
    await expectText(figure(analytics, 'Total credit'), '6,212.34 GHS');
    await expectText(figure(analytics, 'Average value'), '270.49 GHS'); // 6762.34 / 25, half-even
    const chart = region('Transactions per day');
    if ((await chart.locator('details[open]').count()) === 0)
      await chart.getByText('Chart data as a table').click();
    await expectText(chart.getByRole('row', { name: daysAgo(0) }), `${daysAgo(0)} 1 0 1`);
    assert.match(
      String(await chart.getByRole('img').getAttribute('aria-label')),
      /^Transactions per day: 25 transactions/,
    );

    await page.getByRole('button', { name: /^Edit credit of 12\.34 GHS/ }).click();
    const edit = region('Edit transaction');
    // someone else changes it while the form is open: the save is refused (If-Match), the form
    // shows the new version, and saving again works
    const newest = (
      await t.inject({ method: 'GET', url: `/api/v1/users/${userId}/transactions?limit=1` })
    ).json().data[0];
    const patch = await t.inject({
      method: 'PATCH',
      url: `/api/v1/transactions/${newest.id}`,
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': '"1"' },
      payload: { transaction_amount: '15.00' },
    });
    assert.equal(patch.statusCode, 200, patch.body);
    await edit.getByLabel('Amount').fill('20.00');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectText(edit.getByRole('alert'), /^Someone changed this transaction meanwhile/);
    assert.equal(await edit.getByLabel('Amount').inputValue(), '15.00');
    await edit.getByLabel('Amount').fill('20.00');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectText(page.getByRole('status'), 'Transaction updated.');
    await expectText(figure(analytics, 'Total credit'), '6,220.00 GHS');

    await page.getByRole('button', { name: /^Delete credit of 20\.00 GHS/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this transaction?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expectText(page.getByRole('status'), 'Transaction deleted.');
    await expectText(figure(analytics, 'Transactions'), '24');
    await expectText(figure(analytics, 'Total credit'), '6,200.00 GHS');
    // the chart comes from its own history request and redraws after the figures
    await eventually(async () =>
      (await chart.getByRole('row', { name: daysAgo(0) }).count()) === 0 ? true : undefined,
    );
  });

  it('fits a phone screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expectText(region('History').getByRole('table').locator('caption'), /^Page 1/);
    await eventually(async () => ((await overflowsHorizontally(page)) ? undefined : true), 5_000);
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('phone');
  });

  it('stayed within its policy: no script errors, CSP violations or requests elsewhere', async () => {
    assert.deepEqual(watch.errors, []);
    assert.deepEqual(await watch.cspViolations(), []);
    assert.deepEqual(watch.foreignRequests, []);
  });
});
