import { randomBytes } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { notFound, validationFailed, type FieldError } from '../errors.ts';
import { newTransactionId } from '../ids/ids.ts';
import type { WebhookDelivery, WebhookStore, WebhookSubscription } from './webhook-store.port.ts';
import {
  MAX_URL_LENGTH,
  type CreatedWebhookResponse,
  type CreateWebhookBody,
  type DeliveryResponse,
  type WebhookResponse,
} from './webhooks.schemas.ts';

export interface WebhookServiceDeps {
  readonly store: WebhookStore;
  readonly keyring: Keyring;
  readonly clock: () => Date;
  /** WEBHOOK_ALLOWED_HOSTS, lower case; null: any host. */
  readonly allowedHosts: readonly string[] | null;
}

/** The body after schema validation ran, with its complaints, so URL checks join the same 422. */
export interface WebhookInput {
  readonly body: unknown;
  readonly schemaErrors: readonly FieldError[];
}

/** Associated data of a sealed secret: a sealed secret copied onto another subscription fails to open. */
export const secretAad = (subscriptionId: string): string => `webhook-secret:${subscriptionId}`;

export type WebhookService = ReturnType<typeof createWebhookService>;

export function createWebhookService(deps: WebhookServiceDeps) {
  const { store, keyring, clock } = deps;

  /** Another client's subscription answers like an absent one, so ids cannot be probed. */
  async function owned(id: string, principal: Principal): Promise<WebhookSubscription> {
    const subscription = await store.get(id);
    if (subscription === null || !(principal.isService || subscription.owner === principal.clientId)) {
      throw notFound(`no webhook subscription ${id}`);
    }
    return subscription;
  }

  return {
    async create(input: WebhookInput, principal: Principal): Promise<CreatedWebhookResponse> {
      const errors = [...input.schemaErrors];
      const body = input.body as Partial<CreateWebhookBody> | null;
      if (typeof body?.url === 'string' && !errors.some((e) => e.pointer === '/url')) {
        const problem = urlProblem(body.url, deps.allowedHosts);
        if (problem !== null) errors.push({ pointer: '/url', message: problem });
      }
      if (errors.length > 0 || body === null) throw validationFailed(errors);
      const { url, event_types: eventTypes, secret = newSecret() } = body as CreateWebhookBody;
      const id = `wh_${newTransactionId()}`;
      const subscription: WebhookSubscription = {
        id,
        url,
        eventTypes,
        secretSealed: keyring.seal(secret, secretAad(id)),
        owner: principal.clientId,
        createdAt: clock(),
      };
      await store.create(subscription);
      return { ...toResponse(subscription), secret };
    },

    async list(principal: Principal): Promise<{ data: WebhookResponse[] }> {
      const subscriptions = await store.list(principal.isService ? null : principal.clientId);
      return { data: subscriptions.map(toResponse) };
    },

    async get(id: string, principal: Principal): Promise<WebhookResponse> {
      return toResponse(await owned(id, principal));
    },

    async remove(id: string, principal: Principal): Promise<void> {
      await owned(id, principal);
      if (!(await store.delete(id))) throw notFound(`no webhook subscription ${id}`);
    },

    async deliveries(id: string, limit: number, principal: Principal): Promise<{ data: DeliveryResponse[] }> {
      await owned(id, principal);
      return { data: (await store.deliveries(id, limit)).map(toDeliveryResponse) };
    },
  };
}

/** 32 random bytes: as much entropy as the HMAC-SHA256 key can use. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * Why a webhook URL is refused, or null. Only http(s) without credentials (they would sit in
 * clear in the store and in logs), and with WEBHOOK_ALLOWED_HOSTS only those hosts: the URL is
 * called from inside our network, so an arbitrary one is a server-side request forgery risk.
 */
export function urlProblem(text: string, allowedHosts: readonly string[] | null): string | null {
  if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (allowedHosts !== null && !allowedHosts.some((allowed) => hostMatches(url.hostname, allowed))) {
    return `host ${url.hostname} is not in the allowed webhook hosts`;
  }
  return null;
}

function hostMatches(hostname: string, allowed: string): boolean {
  return allowed.startsWith('*.') ? hostname.endsWith(allowed.slice(1)) : hostname === allowed;
}

function toResponse(s: WebhookSubscription): WebhookResponse {
  return { id: s.id, url: s.url, event_types: [...s.eventTypes], created_at: s.createdAt.toISOString() };
}

function toDeliveryResponse(d: WebhookDelivery): DeliveryResponse {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    state: d.state,
    attempts: d.attempts,
    created_at: d.createdAt.toISOString(),
    next_attempt_at: d.state === 'pending' ? d.nextAttemptAt.toISOString() : null,
    last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
    last_error: d.lastError,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}
