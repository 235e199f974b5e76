// @ts-check
/**
 * Create and edit a transaction. The page does no validation of its own: the API's answer is the
 * authority, and each of its field errors is shown next to the field its pointer names.
 */
import { api, ApiError, explain } from './api.js';
import { byId, fill, h } from './dom.js';

/** @typedef {import('./history.js').Transaction} Transaction */

/** @type {readonly { name: string, label: string, hint?: string, control: () => HTMLInputElement | HTMLSelectElement }[]} */
const FIELDS = [
  { name: 'full_name', label: 'Full name', control: () => h('input', { autocomplete: 'off' }) },
  {
    name: 'transaction_date',
    label: 'Date and time (UTC)',
    control: () => h('input', { type: 'datetime-local', step: 1 }),
  },
  {
    name: 'transaction_amount',
    label: 'Amount',
    hint: 'A positive decimal, at most the currency’s minor-unit digits (2 for GHS).',
    control: () => h('input', { inputmode: 'decimal', autocomplete: 'off' }),
  },
  {
    name: 'transaction_type',
    label: 'Type',
    control: () =>
      h('select', {}, h('option', { value: 'credit' }, 'Credit'), h('option', { value: 'debit' }, 'Debit')),
  },
  {
    name: 'transaction_currency',
    label: 'Currency (optional)',
    hint: 'ISO 4217 code; empty for the service default.',
    control: () => h('input', { maxlength: 8, autocomplete: 'off', spellcheck: 'false' }),
  },
];

/**
 * @param {object} options
 * @param {(message: string) => void} options.announce
 * @param {() => Promise<void>} options.onSaved
 */
export function createEditor({ announce, onSaved }) {
  const title = byId('editor-title', HTMLHeadingElement);
  /** @type {Map<string, { control: HTMLInputElement | HTMLSelectElement, error: HTMLParagraphElement }>} */
  const fields = new Map();
  const problem = h('div', { role: 'alert', class: 'problem' });
  const save = h('button', { type: 'submit' }, 'Save transaction');
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Cancel editing');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'editor-title' });
  for (const field of FIELDS) {
    const id = `tx-${field.name.replaceAll('_', '-')}`;
    const control = field.control();
    const hintId = field.hint === undefined ? null : `${id}-hint`;
    const error = h('p', { id: `${id}-error`, class: 'field-error', hidden: true });
    control.id = id;
    control.name = field.name;
    control.setAttribute('aria-describedby', [hintId, error.id].filter(Boolean).join(' '));
    form.append(
      h(
        'div',
        { class: 'field' },
        h('label', { for: id }, field.label),
        hintId === null ? null : h('p', { id: hintId, class: 'hint' }, field.hint),
        control,
        error,
      ),
    );
    fields.set(field.name, { control, error });
  }
  form.append(problem, h('div', { class: 'actions' }, save, cancel));
  byId('editor', HTMLDivElement).append(form);

  let userId = '';
  /** @type {Transaction | null} */
  let editing = null;

  /** @param {string} name */
  const control = (name) => {
    const field = fields.get(name);
    if (field === undefined) throw new Error(`no field ${name}`);
    return field.control;
  };

  function clearErrors() {
    fill(problem);
    for (const { control: c, error } of fields.values()) {
      c.removeAttribute('aria-invalid');
      error.hidden = true;
      error.textContent = '';
    }
  }

  /** @param {Transaction | null} transaction */
  function reset(transaction) {
    editing = transaction;
    clearErrors();
    title.textContent = transaction ? 'Edit transaction' : 'New transaction';
    save.textContent = transaction ? 'Save changes' : 'Save transaction';
    cancel.hidden = transaction === null;
    control('full_name').value = transaction?.full_name ?? '';
    // the API answers UTC ("…Z"); the field holds the same wall time without the zone
    const date = transaction?.transaction_date ?? new Date().toISOString().slice(0, 17) + '00.000Z';
    control('transaction_date').value = date.slice(0, 23).replace(/\.000$/, '');
    control('transaction_amount').value = transaction?.transaction_amount ?? '';
    control('transaction_type').value = transaction?.transaction_type ?? 'credit';
    control('transaction_currency').value = transaction?.transaction_currency ?? '';
  }

  /** The request body: empty fields left out, so the API names them if they are required. */
  function body() {
    /** @type {Record<string, string>} */
    const result = editing ? {} : { user_id: userId };
    for (const { name } of FIELDS) {
      const value = control(name).value.trim();
      if (value === '') continue;
      // a datetime-local value has no zone and drops zero seconds: "2024-10-05T10:00" is UTC here
      result[name] = name === 'transaction_date' ? `${value.length === 16 ? `${value}:00` : value}Z` : value;
    }
    return result;
  }

  /** @param {ApiError} error */
  function showProblem(error) {
    const unplaced = [];
    let first = null;
    for (const [name, message] of error.fieldErrors) {
      const field = fields.get(name);
      if (field === undefined) {
        unplaced.push(name === '' ? message : `${name} ${message}`);
        continue;
      }
      field.control.setAttribute('aria-invalid', 'true');
      field.error.textContent = message;
      field.error.hidden = false;
      first ??= field.control;
    }
    const summary =
      error.status === 422
        ? 'The transaction was not saved: check the fields marked below.'
        : error.status === 412
          ? 'Someone changed this transaction meanwhile: it was reloaded, check it and save again.'
          : `The transaction was not saved: ${explain(error)}`;
    fill(
      problem,
      h('p', {}, summary),
      unplaced.length > 0 &&
        h(
          'ul',
          {},
          unplaced.map((m) => h('li', {}, m)),
        ),
    );
    first?.focus();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  async function submit() {
    clearErrors();
    save.disabled = true;
    try {
      if (editing) {
        await api('PUT', `/transactions/${encodeURIComponent(editing.id)}`, {
          body: body(),
          headers: { 'if-match': `"${editing.version}"` },
        });
        announce('Transaction updated.');
      } else {
        await api('POST', '/transactions', { body: body() });
        announce('Transaction created.');
      }
      reset(null);
      await onSaved();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 412 && editing) {
        const current = await api('GET', `/transactions/${encodeURIComponent(editing.id)}`).catch(() => null);
        // deleted meanwhile: the form stays as it was, and the message says it was not saved
        if (current !== null) reset(/** @type {Transaction} */ (current));
      }
      showProblem(error);
    } finally {
      save.disabled = false;
    }
  }

  cancel.addEventListener('click', () => {
    reset(null);
    control('full_name').focus();
  });

  return {
    /** @param {string} id the customer new transactions are for */
    setUser(id) {
      userId = id;
      reset(null);
    },
    /** @param {Transaction} transaction */
    edit(transaction) {
      reset(transaction);
      form.scrollIntoView({ block: 'start' });
      control('full_name').focus();
    },
  };
}
