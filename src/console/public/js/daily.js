// @ts-check
/**
 * Transactions per day for the chart, counted from the history pages of the period: the API has
 * no per-day series, and the console reads only what the public API offers.
 */
import { api, userPath } from './api.js';
import { addDays, utcDay } from './format.js';

/** At most this many history pages of 200 are read for one chart... */
const MAX_PAGES = 5;
/** ...and at most a year of days drawn. */
const MAX_DAYS = 366;

/**
 * @param {string} userId
 * @param {import('./history.js').Period} period empty ends are open
 * @returns {Promise<{ days: import('./chart.js').DayCount[], truncated: boolean }>} every day of the
 *   period oldest first, zeros included; `truncated` when the period held more than was read, and
 *   the days then start at the oldest transaction read
 */
export async function dailyCounts(userId, period) {
  /** @type {import('./history.js').Transaction[]} */
  const rows = [];
  /** @type {string | undefined} */
  let cursor;
  let pages = 0;
  do {
    const page = /** @type {import('./history.js').Page} */ (
      await api('GET', `${userPath(userId)}/transactions`, { query: { ...period, limit: 200, cursor } })
    );
    rows.push(...page.data);
    cursor = page.next_cursor ?? undefined;
    pages += 1;
  } while (cursor !== undefined && pages < MAX_PAGES);
  const truncated = cursor !== undefined;

  /** @type {Map<string, { credit: number, debit: number }>} */
  const counts = new Map();
  for (const t of rows) {
    const day = t.transaction_date.slice(0, 10);
    const entry = counts.get(day) ?? { credit: 0, debit: 0 };
    entry[t.transaction_type] += 1;
    counts.set(day, entry);
  }
  const seen = [...counts.keys()].sort();
  // newest first: the history pages are, so a truncated read lacks the oldest days
  const last = period.to || [utcDay(new Date()), ...seen].sort().at(-1) || utcDay(new Date());
  let first = (truncated ? seen[0] : period.from || seen[0]) ?? last;
  if (first < addDays(last, 1 - MAX_DAYS)) first = addDays(last, 1 - MAX_DAYS);
  const days = [];
  for (let day = first; day <= last; day = addDays(day, 1)) {
    days.push({ date: day, ...(counts.get(day) ?? { credit: 0, debit: 0 }) });
  }
  return { days, truncated };
}
