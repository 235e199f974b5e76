import type { WebhookDelivery } from './webhook-store.port.ts';
import { sign } from './webhook-signature.ts';

/** How attempts are bounded and spaced (WEBHOOK_* config). */
export interface RetryPolicy {
  readonly timeoutMs: number;
  readonly retryForMs: number;
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
}

export type SendResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** Enough of a receiver's answer to tell an operator what went wrong, not enough to store a page. */
const MAX_ERROR_BODY_CHARS = 200;

/**
 * One POST of a delivery. Redirects are not followed: a receiver (or whoever controls its DNS)
 * could otherwise bounce us to an internal address the URL checks never saw. `signal` bounds the
 * whole exchange, body included (the caller combines the timeout with its own shutdown).
 */
export async function send(
  url: string,
  delivery: WebhookDelivery,
  secret: string,
  now: Date,
  signal: AbortSignal,
): Promise<SendResult> {
  const timestamp = Math.floor(now.getTime() / 1000);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fido-webhooks/1',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': sign(secret, delivery.id, timestamp, delivery.payload),
      },
      body: delivery.payload,
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    return { ok: false, error: describeFailure(error) };
  }
  if (response.status >= 200 && response.status < 300) {
    // the connection goes back to the pool only once the body is consumed or cancelled
    await response.body?.cancel().catch(() => undefined);
    return { ok: true };
  }
  const start = await startOfBody(response).catch(() => '');
  const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
  return { ok: false, error: `HTTP ${response.status}${redirect}${start === '' ? '' : `: ${start}`}` };
}

/** The delivery after an attempt at `now`: delivered, rescheduled with backoff, or dead. */
export function afterAttempt(
  delivery: WebhookDelivery,
  result: SendResult,
  now: Date,
  policy: RetryPolicy,
  random: () => number = Math.random,
): WebhookDelivery {
  const attempted = { ...delivery, attempts: delivery.attempts + 1, lastAttemptAt: now };
  if (result.ok) return { ...attempted, state: 'delivered', deliveredAt: now };
  const failed = { ...attempted, lastError: result.error };
  if (now.getTime() - delivery.createdAt.getTime() >= policy.retryForMs) return { ...failed, state: 'dead' };
  // exponential, capped; the jitter in [0.5, 1) spreads retries of deliveries that failed together
  // (a receiver back from an outage is not hit by its whole backlog in the same instant)
  const backoff = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** delivery.attempts);
  const delay = Math.round(backoff * (0.5 + random() / 2));
  return { ...failed, nextAttemptAt: new Date(now.getTime() + delay) };
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  if (error.name === 'TimeoutError') return 'timed out waiting for the receiver';
  if (error.name === 'AbortError') return 'aborted';
  // fetch reports network errors as TypeError('fetch failed') with the system error as cause
  const cause = error.cause;
  let detail = '';
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    detail = `: ${typeof code === 'string' ? code : cause.message}`;
  }
  return `${error.message}${detail}`.slice(0, 300);
}

async function startOfBody(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < MAX_ERROR_BODY_CHARS) {
      // fetch bodies are byte streams; the typings leave the chunk type open
      const chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY_CHARS);
}
