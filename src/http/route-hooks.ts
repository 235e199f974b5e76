import type { RouteOptions } from 'fastify';

type RouteHookName = 'onRequest' | 'preValidation' | 'onSend' | 'onResponse';

/**
 * Adds `hook` to one route's own hooks, from an `onRoute` hook: it runs after the scope's hooks
 * of that name, and it can close over what the route declares (its config, its URL) instead of
 * reading `request.routeOptions`, a getter that builds a new object on every access. A new array
 * each time: Fastify copies a GET route's options for its HEAD route before the onRoute hooks
 * run, and the HEAD route gets the hook from its own onRoute call, once.
 */
export function addRouteHook(route: RouteOptions, name: RouteHookName, hook: unknown): void {
  const existing = (route as unknown as Record<RouteHookName, unknown>)[name];
  const hooks = existing === undefined ? [hook] : [...[existing].flat(), hook];
  (route as unknown as Record<RouteHookName, unknown>)[name] = hooks;
}
