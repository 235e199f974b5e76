// @ts-check
/** Renderers of the read-only panels: analytics figures, credit score, alerts. */
import { h, svg, tableHead } from './dom.js';
import { dateTime, factorLabel, money, plural, ruleLabel } from './format.js';

/**
 * @typedef {object} Analytics
 * @property {string | null} from
 * @property {string | null} to
 * @property {number} transaction_count
 * @property {{ date: string, transaction_count: number } | null} day_with_most_transactions
 * @property {string | null} currency
 * @property {string | null} average_transaction_value
 * @property {string | null} total_credit
 * @property {string | null} total_debit
 * @property {import('./chart.js').CurrencyTotals[]} by_currency
 * @property {string} as_of
 */

/**
 * @param {string} term
 * @param {string} value
 */
const figure = (term, value) => h('div', {}, h('dt', {}, term), h('dd', {}, value));

/** @param {Analytics} a */
export function figures(a) {
  const busiest = a.day_with_most_transactions;
  const mixed = a.currency === null && a.by_currency.length > 1;
  return [
    h(
      'dl',
      { class: 'figures' },
      figure('Transactions', String(a.transaction_count)),
      figure('Average value', money(a.average_transaction_value, a.currency)),
      figure('Busiest day', busiest ? `${busiest.date} (${busiest.transaction_count})` : '—'),
      figure('Total credit', money(a.total_credit, a.currency)),
      figure('Total debit', money(a.total_debit, a.currency)),
    ),
    mixed &&
      h(
        'p',
        { class: 'meta' },
        'Several currencies in this period: averages and totals are per currency, under the chart.',
      ),
    h('p', { class: 'meta' }, `As of ${dateTime(a.as_of)}`),
  ];
}

/**
 * @typedef {object} CreditScore
 * @property {number} score
 * @property {string} band
 * @property {{ name: string, value: number | null, contribution: number }[]} factors
 * @property {string} model_version
 * @property {string} computed_at
 */

/** @param {CreditScore} s */
export function creditScore(s) {
  const most = Math.max(1, ...s.factors.map((f) => f.contribution));
  return [
    h(
      'p',
      { class: 'score-line' },
      h('span', { class: 'score-value' }, String(s.score)),
      h('span', {}, 'band ', h('span', { class: 'band' }, s.band)),
      h('span', { class: 'meta' }, 'on 300–850'),
    ),
    h(
      'table',
      { class: 'factors' },
      h('caption', {}, 'Points each factor adds above 300'),
      tableHead(
        { label: 'Factor' },
        { label: 'Value', num: true },
        { label: 'Points', num: true },
        { label: h('span', { class: 'visually-hidden' }, 'Share') },
      ),
      h(
        'tbody',
        {},
        s.factors.map((f) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, factorLabel(f.name)),
            h('td', { class: 'num' }, f.value === null ? 'no data' : String(f.value)),
            h('td', { class: 'num' }, String(f.contribution)),
            h(
              'td',
              { class: 'bar', 'aria-hidden': 'true' },
              svg(
                'svg',
                { viewBox: '0 0 100 10', preserveAspectRatio: 'none' },
                svg('rect', { class: 'track', x: 0, y: 0, width: 100, height: 10 }),
                svg('rect', {
                  class: 'bar-factor',
                  x: 0,
                  y: 0,
                  width: (100 * f.contribution) / most,
                  height: 10,
                }),
              ),
            ),
          ),
        ),
      ),
    ),
    h('p', { class: 'meta' }, `Model ${s.model_version}, computed ${dateTime(s.computed_at)}`),
  ];
}

/**
 * @typedef {object} Alert
 * @property {string} id
 * @property {string} rule
 * @property {string} severity
 * @property {string} raised_at
 * @property {string} transaction_id
 * @property {{ metric: string, value: string, threshold: string, comparison: string,
 *   currency: string | null, window: string | null }} details
 */

/**
 * ISO 8601 durations of the rules ("PT30M", "P30D") in words.
 * @param {string} window
 */
function duration(window) {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(window);
  if (!match) return window;
  const [, days, hours, minutes] = match;
  return [
    days && plural(Number(days), 'day'),
    hours && plural(Number(hours), 'hour'),
    minutes && `${minutes} min`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** @param {Alert} a */
function alertItem(a) {
  const d = a.details;
  const amount = (/** @type {string} */ value) => (d.currency === null ? value : money(value, d.currency));
  const comparison =
    /** @type {Record<string, string>} */ ({ '>=': '≥', '<=': '≤' })[d.comparison] ?? d.comparison;
  return h(
    'li',
    { class: a.severity },
    h('span', { class: 'severity' }, a.severity),
    ' ',
    h('strong', {}, ruleLabel(a.rule)),
    h('br'),
    `${d.metric.replaceAll('_', ' ')} ${amount(d.value)}, threshold ${comparison} ${amount(d.threshold)}`,
    d.window === null ? '' : ` within ${duration(d.window)}`,
    h('br'),
    h('span', { class: 'meta' }, `Raised ${dateTime(a.raised_at)} by transaction `),
    h('span', { class: 'id' }, a.transaction_id),
  );
}

/** @param {Alert[]} alerts */
export function alertList(alerts) {
  if (alerts.length === 0) return h('p', {}, 'No alerts raised for this customer.');
  return h('ul', { class: 'alerts', 'aria-label': plural(alerts.length, 'alert') }, alerts.map(alertItem));
}
