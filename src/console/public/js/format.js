// @ts-check
/**
 * Display formats. Amounts arrive as exact decimal strings and are only regrouped as text, never
 * turned into binary floating point; times arrive in UTC and are shown in UTC, as stored.
 */

/**
 * "1234567.50" -> "1,234,567.50"
 * @param {string} amount
 */
export function groupDigits(amount) {
  const [whole = '', fraction] = amount.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace(/^-/, '');
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/**
 * @param {string | null} amount
 * @param {string | null} [currency]
 */
export function money(amount, currency) {
  if (amount === null) return '—';
  return currency ? `${groupDigits(amount)} ${currency}` : groupDigits(amount);
}

/**
 * "2024-10-05T10:00:00.000Z" -> "2024-10-05 10:00 UTC"
 * @param {string} iso
 */
export function dateTime(iso) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1] ?? ''} ${match[2] ?? ''} UTC` : iso;
}

/** @param {Date} date */
export const utcDay = (date) => date.toISOString().slice(0, 10);

/**
 * @param {string} day YYYY-MM-DD
 * @param {number} days
 */
export function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return utcDay(date);
}

/** @type {Readonly<Record<string, string>>} */
const FACTOR_LABELS = {
  history_length: 'History length (days)',
  active_days: 'Active days (last 90)',
  inflow_regularity: 'Weeks with a credit (share of 12)',
  credit_debit_balance: 'Credit share of flows (90 days)',
  inflow_volatility: 'Weekly credit volatility',
  recent_alerts: 'Alerts (last 30 days)',
};

/** @param {string} name */
export const factorLabel = (name) => FACTOR_LABELS[name] ?? name.replaceAll('_', ' ');

/** @type {Readonly<Record<string, string>>} */
const RULE_LABELS = {
  large_transaction: 'Large transaction',
  velocity: 'Velocity',
  sustained_outflow: 'Sustained outflow',
};

/** @param {string} rule */
export const ruleLabel = (rule) => RULE_LABELS[rule] ?? rule.replaceAll('_', ' ');

/**
 * @param {number} count
 * @param {string} one
 * @param {string} [many]
 */
export const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
