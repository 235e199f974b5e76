// @ts-check
/**
 * The customer view: one customer, one period, every panel read from the public API. A write
 * from the editor or a deletion refreshes them all; the API is read-your-writes, so the new
 * figures are there on the next read, with no waiting.
 */
import { api, explain, userPath } from './api.js';
import { dailyChart, dailyTable, totalsChart } from './chart.js';
import { byId, fill, h } from './dom.js';
import { createEditor } from './editor.js';
import { dailyCounts } from './daily.js';
import { addDays, dateTime, money, utcDay } from './format.js';
import { createHistory } from './history.js';
import { alertList, creditScore, figures } from './panels.js';

/** @typedef {import('./history.js').Transaction} Transaction */
/** @typedef {import('./history.js').Period} Period */

const ALERTS_PAGE = 10;

/** @returns {Period} the last 30 UTC days, today included */
export function defaultPeriod() {
  const today = utcDay(new Date());
  return { from: addDays(today, -29), to: today };
}

/** @param {(message: string) => void} announce */
export function createCustomerView(announce) {
  const section = byId('customer', HTMLElement);
  const titleEl = byId('customer-title', HTMLHeadingElement);
  const panels = {
    figures: byId('figures', HTMLDivElement),
    score: byId('score', HTMLDivElement),
    chart: byId('chart', HTMLDivElement),
    alerts: byId('alerts', HTMLDivElement),
  };
  const dialog = byId('confirm-delete', HTMLDialogElement);
  const history = createHistory({
    onEdit: (t) => {
      editor.edit(t);
    },
    onDelete: confirmDelete,
  });
  const editor = createEditor({ announce, onSaved: refresh });

  let userId = '';
  /** @type {Period} */
  let period = defaultPeriod();
  let seq = 0;
  /** @type {import('./chart.js').DayCount[]} */
  let chartDays = [];

  /**
   * Loads one panel; a newer lookup or refresh makes an older answer stale, and it is dropped.
   * @param {HTMLElement} panel
   * @param {() => Promise<import('./dom.js').Child | import('./dom.js').Child[]>} load
   */
  async function panel(panel, load) {
    const mine = seq;
    panel.setAttribute('aria-busy', 'true');
    if (panel.childElementCount === 0) fill(panel, h('p', {}, 'Loading…'));
    let content;
    try {
      content = await load();
    } catch (error) {
      content = h('p', { class: 'problem' }, explain(error));
    }
    if (mine !== seq) return;
    fill(panel, content);
    panel.removeAttribute('aria-busy');
  }

  const query = () => ({ from: period.from, to: period.to });

  /** @param {Promise<import('./panels.js').Analytics>} analytics */
  async function loadChart(analytics) {
    const tableOpen = panels.chart.querySelector('details')?.open ?? false;
    const { days, truncated } = await dailyCounts(userId, period);
    chartDays = days;
    const { by_currency: byCurrency } = await analytics;
    return [
      h('div', { class: 'chart', id: 'daily-chart' }, dailyChart(chartDays, chartWidth())),
      h(
        'ul',
        { class: 'legend' },
        h('li', {}, h('span', { class: 'swatch credit' }), 'Credits'),
        h('li', {}, h('span', { class: 'swatch debit' }), 'Debits'),
      ),
      truncated &&
        h(
          'p',
          { class: 'meta' },
          `The period holds more transactions than the chart reads: it starts on ${days[0]?.date ?? ''}.`,
        ),
      dailyTable(chartDays, tableOpen),
      byCurrency.length > 0 && totalsChart(byCurrency),
    ];
  }

  const chartWidth = () => Math.max(280, Math.round(panels.chart.clientWidth || 640));

  // the chart is drawn at the size it is shown, so its text stays legible on a phone
  new ResizeObserver(() => {
    const holder = document.getElementById('daily-chart');
    if (holder && chartDays.length > 0) fill(holder, dailyChart(chartDays, chartWidth()));
  }).observe(panels.chart);

  async function loadAlerts() {
    /** @type {import('./panels.js').Alert[]} */
    const alerts = [];
    /** @type {string | undefined} */
    let cursor;
    const more = h('button', { type: 'button', class: 'secondary' }, 'More alerts');
    const list = h('div', {});
    const fetchPage = async () => {
      const page = /** @type {{ data: import('./panels.js').Alert[], next_cursor: string | null }} */ (
        await api('GET', `${userPath(userId)}/alerts`, { query: { limit: ALERTS_PAGE, cursor } })
      );
      alerts.push(...page.data);
      cursor = page.next_cursor ?? undefined;
      more.hidden = page.next_cursor === null;
      fill(list, alertList(alerts));
    };
    more.addEventListener('click', () => {
      fetchPage().catch((/** @type {unknown} */ error) => {
        fill(list, h('p', { class: 'problem' }, explain(error)));
      });
    });
    await fetchPage();
    return [list, more];
  }

  async function refresh() {
    seq += 1;
    const path = userPath(userId);
    // one read for the figures and the totals under the chart, so they always agree
    const analytics = /** @type {Promise<import('./panels.js').Analytics>} */ (
      api('GET', `${path}/analytics`, { query: query() })
    );
    analytics.catch(() => undefined); // each panel reports the failure itself
    await Promise.all([
      panel(panels.figures, async () => figures(await analytics)),
      panel(panels.score, async () =>
        creditScore(
          /** @type {import('./panels.js').CreditScore} */ (await api('GET', `${path}/credit-score`)),
        ),
      ),
      panel(panels.chart, () => loadChart(analytics)),
      panel(panels.alerts, loadAlerts),
      history.show(userId, period),
    ]);
  }

  /** @param {Transaction} t */
  function confirmDelete(t) {
    const text = byId('confirm-delete-text', HTMLParagraphElement);
    text.textContent = `${t.transaction_type} of ${money(t.transaction_amount, t.transaction_currency)} on ${dateTime(t.transaction_date)} (${t.id}). This cannot be undone.`;
    dialog.returnValue = '';
    dialog.showModal();
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue !== 'delete') return;
        api('DELETE', `/transactions/${encodeURIComponent(t.id)}`)
          .then(async () => {
            announce('Transaction deleted.');
            await refresh();
            // the row and its button are gone: keep the keyboard in the history
            byId('history-title', HTMLHeadingElement).focus();
          })
          .catch((/** @type {unknown} */ error) => {
            announce(`The transaction was not deleted: ${explain(error)}`);
          });
      },
      { once: true },
    );
  }

  return {
    /** @param {string} id */
    async show(id) {
      userId = id;
      section.hidden = false;
      titleEl.textContent = `Customer ${id}`;
      editor.setUser(id);
      for (const element of Object.values(panels)) fill(element);
      await refresh();
      announce(`Showing customer ${id}, ${describe(period)}.`);
    },
    /** @param {Period} range */
    async setPeriod(range) {
      period = range;
      if (userId !== '') {
        await refresh();
        announce(`Showing ${describe(period)}.`);
      }
    },
    get period() {
      return period;
    },
    hide() {
      seq += 1;
      userId = '';
      section.hidden = true;
    },
  };
}

/** @param {Period} p */
function describe(p) {
  if (p.from === '' && p.to === '') return 'all time';
  return `${p.from || 'the start'} to ${p.to || 'today'}`;
}
