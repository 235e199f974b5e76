// @ts-check
/**
 * The local sign-in code, offered only when the service says it runs on its embedded defaults
 * (GET /console/login answers 404 everywhere else): the code from DATA_DIR/console-code buys a
 * short-lived staff token, which is then kept like a pasted one.
 */
import { byId } from './dom.js';

/** @param {(token: string) => void} onToken */
export function setUpLogin(onToken) {
  const section = byId('login', HTMLDivElement);
  const form = byId('login-form', HTMLFormElement);
  const input = byId('login-code', HTMLInputElement);
  const error = byId('login-code-error', HTMLParagraphElement);

  /** @param {string | null} message */
  const showError = (message) => {
    error.textContent = message ?? '';
    error.hidden = message === null;
    if (message === null) input.removeAttribute('aria-invalid');
    else input.setAttribute('aria-invalid', 'true');
  };

  fetch('/console/login', { cache: 'no-store', credentials: 'omit' })
    .then((response) => {
      section.hidden = !response.ok;
    })
    .catch(() => undefined);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const response = await fetch('/console/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ code: input.value.trim() }),
        cache: 'no-store',
        credentials: 'omit',
      }).catch(() => null);
      /** @type {unknown} */
      const body = await response?.json().catch(() => null);
      const token = /** @type {{ access_token?: unknown } | null} */ (body)?.access_token;
      if (response?.ok && typeof token === 'string') {
        input.value = '';
        showError(null);
        onToken(token);
        return;
      }
      const detail = /** @type {{ detail?: unknown } | null} */ (body)?.detail;
      showError(typeof detail === 'string' ? detail : 'The service did not accept the code.');
      input.focus();
    })();
  });
}
