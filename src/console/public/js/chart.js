// @ts-check
/**
 * The console's charts, drawn as SVG by hand: a few dozen lines instead of a charting library,
 * and nothing that needs inline styles. Each chart comes with its numbers as text (an accessible
 * summary and a table), so no one has to read values off the bars.
 */
import { h, svg, tableHead } from './dom.js';
import { money, plural } from './format.js';

/** @typedef {{ date: string, credit: number, debit: number }} DayCount */

const HEIGHT = 200;
const PAD = { top: 12, right: 8, bottom: 26, left: 34 };

/**
 * Transactions per day, credits and debits stacked.
 * @param {DayCount[]} days every day of the period, oldest first (zeros included)
 * @param {number} width the drawing's width in CSS pixels, so text keeps its size on phones
 * @returns {SVGElement}
 */
export function dailyChart(days, width) {
  const plotW = Math.max(width - PAD.left - PAD.right, 40);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const max = Math.max(1, ...days.map((d) => d.credit + d.debit));
  const step = Math.max(1, Math.ceil(max / 4));
  const top = Math.ceil(max / step) * step;
  const y = (/** @type {number} */ count) => PAD.top + plotH - (count / top) * plotH;
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(1, slot * 0.7);
  const labelEvery = Math.max(1, Math.ceil(days.length / Math.floor(plotW / 48)));
  const total = days.reduce((sum, d) => sum + d.credit + d.debit, 0);
  const busiest = days.reduce((best, d) => (d.credit + d.debit >= best.credit + best.debit ? d : best), {
    date: '',
    credit: 0,
    debit: 0,
  });

  const gridLines = [];
  for (let value = 0; value <= top; value += step) {
    gridLines.push(
      svg('line', { class: 'grid-line', x1: PAD.left, x2: PAD.left + plotW, y1: y(value), y2: y(value) }),
      svg('text', { x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, String(value)),
    );
  }
  const bars = days.map((day, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    return svg(
      'g',
      {},
      svg('title', {}, `${day.date}: ${plural(day.credit, 'credit')}, ${plural(day.debit, 'debit')}`),
      day.credit > 0 &&
        svg('rect', { class: 'bar-credit', x, width: barW, y: y(day.credit), height: y(0) - y(day.credit) }),
      day.debit > 0 &&
        svg('rect', {
          class: 'bar-debit',
          x,
          width: barW,
          y: y(day.credit + day.debit),
          height: y(day.credit) - y(day.credit + day.debit),
        }),
      i % labelEvery === 0 &&
        svg('text', { x: x + barW / 2, y: HEIGHT - 8, 'text-anchor': 'middle' }, day.date.slice(5)),
    );
  });
  const summary =
    days.length === 0
      ? 'No days in the period.'
      : `${plural(total, 'transaction')} from ${days[0]?.date ?? ''} to ${days.at(-1)?.date ?? ''}` +
        (total > 0 ? `; busiest day ${busiest.date} with ${busiest.credit + busiest.debit}.` : '.');
  return svg(
    'svg',
    { viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `Transactions per day: ${summary}` },
    gridLines,
    svg('line', { class: 'axis', x1: PAD.left, x2: PAD.left + plotW, y1: y(0), y2: y(0) }),
    bars,
  );
}

/**
 * The days that had transactions, as a table: what the bars say, readable and searchable.
 * @param {DayCount[]} days
 * @param {boolean} open shown unfolded (it stays as the user left it when the chart is redrawn)
 */
export function dailyTable(days, open) {
  const busy = days.filter((d) => d.credit + d.debit > 0).reverse();
  return h(
    'details',
    { open },
    h('summary', {}, 'Chart data as a table'),
    h(
      'table',
      {},
      h('caption', {}, 'Days with transactions, newest first'),
      tableHead(
        { label: 'Day' },
        { label: 'Credits', num: true },
        { label: 'Debits', num: true },
        { label: 'Total', num: true },
      ),
      h(
        'tbody',
        {},
        busy.map((d) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, d.date),
            h('td', { class: 'num' }, d.credit),
            h('td', { class: 'num' }, d.debit),
            h('td', { class: 'num' }, d.credit + d.debit),
          ),
        ),
      ),
    ),
  );
}

/** @typedef {{ currency: string, credit: { count: number, total: string }, debit: { count: number, total: string } }} CurrencyTotals */

/**
 * Credit and debit totals of the period, one pair of bars per currency (amounts of different
 * currencies are never drawn on one scale).
 * @param {CurrencyTotals[]} byCurrency
 */
export function totalsChart(byCurrency) {
  const rows = byCurrency.flatMap((c) => {
    // lengths only: the figures shown are the exact strings
    const scale = Math.max(Number(c.credit.total), Number(c.debit.total), Number.MIN_VALUE);
    return /** @type {const} */ (['credit', 'debit']).map((side) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, `${side === 'credit' ? 'Credits' : 'Debits'} (${c[side].count})`),
        h(
          'td',
          { class: 'bar', 'aria-hidden': 'true' },
          svg(
            'svg',
            { viewBox: '0 0 100 10', preserveAspectRatio: 'none' },
            svg('rect', { class: 'track', x: 0, y: 0, width: 100, height: 10 }),
            svg('rect', {
              class: `bar-${side}`,
              x: 0,
              y: 0,
              width: (100 * Number(c[side].total)) / scale,
              height: 10,
            }),
          ),
        ),
        h('td', { class: `num ${side}` }, money(c[side].total, c.currency)),
      ),
    );
  });
  return h(
    'table',
    { class: 'totals' },
    h('caption', {}, 'Credit and debit totals over the period'),
    h('tbody', {}, rows),
  );
}
