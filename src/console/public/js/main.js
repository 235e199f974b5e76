// @ts-check
/** Start-up and the top of the page: sign-in, sign-out, the customer lookup and the period. */
import { whenUnauthorized } from './api.js';
import { createCustomerView } from './customer.js';
import { byId } from './dom.js';
import { setUpLogin } from './login.js';
import { claimsOf, forgetToken, readToken, saveToken } from './session.js';

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

const status = byId('status', HTMLParagraphElement);
/** @param {string} message */
const announce = (message) => {
  status.textContent = message;
};

const signIn = byId('sign-in', HTMLElement);
const lookup = byId('lookup', HTMLElement);
const identity = byId('identity', HTMLDivElement);
const userIdInput = byId('user-id', HTMLInputElement);
const customer = createCustomerView(announce);

/**
 * @param {HTMLInputElement | HTMLTextAreaElement} control
 * @param {string | null} message null clears it
 */
function fieldError(control, message) {
  const error = byId(`${control.id}-error`, HTMLParagraphElement);
  error.textContent = message ?? '';
  error.hidden = message === null;
  if (message === null) control.removeAttribute('aria-invalid');
  else control.setAttribute('aria-invalid', 'true');
}

/** @param {string} [reason] why the user is asked to sign in (again) */
function showSignIn(reason) {
  forgetToken();
  customer.hide();
  lookup.hidden = true;
  identity.hidden = true;
  signIn.hidden = false;
  const tokenInput = byId('token', HTMLTextAreaElement);
  tokenInput.value = '';
  fieldError(tokenInput, reason ?? null);
  announce(reason === undefined ? '' : 'Signed out.');
  tokenInput.focus();
}

function showSignedIn() {
  const token = readToken();
  const claims = token === null ? 'no token' : claimsOf(token);
  if (typeof claims === 'string') {
    showSignIn(token === null ? undefined : claims);
    return;
  }
  signIn.hidden = true;
  identity.hidden = false;
  byId('identity-text', HTMLSpanElement).textContent =
    `Signed in as ${claims.subject}${claims.scope.split(' ').includes('service') ? ' (any customer)' : ''}`;
  lookup.hidden = false;
  const wanted = new URLSearchParams(window.location.search).get('user');
  if (wanted !== null && USER_ID.test(wanted)) {
    userIdInput.value = wanted;
    void customer.show(wanted);
  } else {
    userIdInput.focus();
  }
}

byId('token-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId('token', HTMLTextAreaElement);
  const token = input.value.trim().replace(/^Bearer\s+/i, '');
  const claims = token === '' ? 'Paste a token first.' : claimsOf(token);
  if (typeof claims === 'string') {
    fieldError(input, claims);
    input.focus();
    return;
  }
  fieldError(input, null);
  saveToken(token);
  announce(`Signed in as ${claims.subject}.`);
  showSignedIn();
});

byId('sign-out', HTMLButtonElement).addEventListener('click', () => {
  window.history.replaceState(null, '', window.location.pathname);
  showSignIn();
  announce('Signed out.');
});

byId('lookup-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  const id = userIdInput.value.trim();
  if (!USER_ID.test(id)) {
    fieldError(
      userIdInput,
      'A customer ID is 1-64 letters, digits or _ . : -, starting with a letter or digit.',
    );
    userIdInput.focus();
    return;
  }
  fieldError(userIdInput, null);
  // the customer is in the address, so a view can be reloaded or shared (never the token)
  window.history.replaceState(null, '', `${window.location.pathname}?user=${encodeURIComponent(id)}`);
  void customer.show(id);
});

const periodForm = byId('period-form', HTMLFormElement);
const fromInput = byId('period-from', HTMLInputElement);
const toInput = byId('period-to', HTMLInputElement);
fromInput.value = customer.period.from;
toInput.value = customer.period.to;
periodForm.addEventListener('submit', (event) => {
  event.preventDefault();
  // an empty day is an open end; the dates are what the API's from/to take
  const range = { from: fromInput.value, to: toInput.value };
  const reversed = range.from !== '' && range.to !== '' && range.from > range.to;
  fieldError(toInput, reversed ? 'The end of the period is before its start.' : null);
  if (reversed) {
    toInput.focus();
    return;
  }
  void customer.setPeriod(range);
});

whenUnauthorized((error) => {
  showSignIn(`The service refused the token (${error.message}). Sign in again.`);
});

setUpLogin((token) => {
  saveToken(token);
  showSignedIn();
});
showSignedIn();
