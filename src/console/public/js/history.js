// @ts-check
/** The paginated history table: newest first, filtered by period and type, with row actions. */
import { api, explain, userPath } from './api.js';
import { byId, fill, h } from './dom.js';
import { dateTime, groupDigits } from './format.js';

/**
 * @typedef {object} Transaction
 * @property {string} id
 * @property {string} user_id
 * @property {string} full_name
 * @property {string} transaction_date
 * @property {string} transaction_amount
 * @property {'credit' | 'debit'} transaction_type
 * @property {string} transaction_currency
 * @property {number} version
 */
/** @typedef {{ data: Transaction[], next_cursor: string | null }} Page */
/** @typedef {{ from: string, to: string }} Period */

/**
 * @param {object} options
 * @param {(transaction: Transaction) => void} options.onEdit
 * @param {(transaction: Transaction) => void} options.onDelete
 */
export function createHistory({ onEdit, onDelete }) {
  const container = byId('history', HTMLDivElement);
  const typeSelect = byId('history-type', HTMLSelectElement);
  const limitSelect = byId('history-limit', HTMLSelectElement);
  const body = h('div', { 'aria-live': 'polite' });
  const newer = h('button', { type: 'button', class: 'secondary' }, 'Newer');
  const older = h('button', { type: 'button', class: 'secondary' }, 'Older');
  const position = h('span', {});
  container.append(body, h('nav', { class: 'pager', 'aria-label': 'History pages' }, newer, position, older));

  let userId = '';
  /** @type {Period} */
  let period = { from: '', to: '' };
  /** cursors of the pages seen so far: the API pages forward only, so "Newer" goes back here */
  /** @type {(string | undefined)[]} */
  let cursors = [undefined];
  let page = 0;
  /** @type {string | null} */
  let next = null;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    body.setAttribute('aria-busy', 'true');
    try {
      const result = /** @type {Page} */ (
        await api('GET', `${userPath(userId)}/transactions`, {
          query: {
            limit: limitSelect.value,
            cursor: cursors[page],
            from: period.from,
            to: period.to,
            type: typeSelect.value,
          },
        })
      );
      if (mine !== seq) return;
      next = result.next_cursor;
      fill(body, table(result.data));
    } catch (error) {
      if (mine !== seq) return;
      next = null;
      fill(body, h('p', { class: 'problem' }, explain(error)));
    } finally {
      if (mine === seq) {
        body.removeAttribute('aria-busy');
        const focused = document.activeElement;
        newer.disabled = page === 0;
        older.disabled = next === null;
        position.textContent = `Page ${page + 1}`;
        // a keyboard user who paged to the end stays on the pager, not thrown back to the top
        if (focused === older && older.disabled) newer.focus();
        if (focused === newer && newer.disabled) older.focus();
      }
    }
  }

  /** @param {Transaction[]} rows */
  function table(rows) {
    if (rows.length === 0) return h('p', {}, 'No transactions in this period.');
    return h(
      'table',
      { class: 'history-table' },
      h('caption', {}, `Page ${page + 1}, newest first (dates in UTC)`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Date', 'Type', 'Amount', 'Name', 'ID', 'Actions'].map((label) =>
            h('th', { scope: 'col', class: label === 'Amount' ? 'num' : null }, label),
          ),
        ),
      ),
      h('tbody', {}, rows.map(row)),
    );
  }

  /** @param {Transaction} t */
  function row(t) {
    const what = `${t.transaction_type} of ${t.transaction_amount} ${t.transaction_currency} on ${dateTime(t.transaction_date)}`;
    const edit = h(
      'button',
      { type: 'button', class: 'link' },
      'Edit',
      h('span', { class: 'visually-hidden' }, ` ${what}`),
    );
    const remove = h(
      'button',
      { type: 'button', class: 'link danger' },
      'Delete',
      h('span', { class: 'visually-hidden' }, ` ${what}`),
    );
    edit.addEventListener('click', () => {
      onEdit(t);
    });
    remove.addEventListener('click', () => {
      onDelete(t);
    });
    return h(
      'tr',
      {},
      h('td', { 'data-label': 'Date' }, dateTime(t.transaction_date)),
      h('td', { 'data-label': 'Type', class: t.transaction_type }, t.transaction_type),
      h(
        'td',
        { 'data-label': 'Amount', class: 'num' },
        // one child per cell, so the phone layout (label, value) keeps number and currency together
        h(
          'span',
          {},
          `${groupDigits(t.transaction_amount)} `,
          h('span', { class: 'currency' }, t.transaction_currency),
        ),
      ),
      h('td', { 'data-label': 'Name', class: 'name' }, t.full_name),
      h('td', { 'data-label': 'ID', class: 'id' }, t.id),
      h('td', { 'data-label': 'Actions' }, h('span', {}, edit, ' ', remove)),
    );
  }

  newer.disabled = true;
  older.disabled = true;
  newer.addEventListener('click', () => {
    if (body.hasAttribute('aria-busy')) return;
    page = Math.max(0, page - 1);
    void load();
  });
  older.addEventListener('click', () => {
    if (next === null || body.hasAttribute('aria-busy')) return;
    cursors = [...cursors.slice(0, page + 1), next];
    page += 1;
    void load();
  });
  const restart = () => {
    cursors = [undefined];
    page = 0;
    void load();
  };
  typeSelect.addEventListener('change', restart);
  limitSelect.addEventListener('change', restart);

  return {
    /**
     * Shows the first page for this customer and period.
     * @param {string} id
     * @param {Period} range
     */
    show(id, range) {
      userId = id;
      period = range;
      cursors = [undefined];
      page = 0;
      return load();
    },
  };
}
