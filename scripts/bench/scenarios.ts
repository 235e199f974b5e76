import { random } from './dataset.ts';
import type { LoadRequest } from './load.ts';

/**
 * The HTTP scenarios of one target: our endpoints and the ceilings each is compared with.
 * `dataset` says which seeded data a scenario reads (on the embedded target both are the same
 * directory); `cache` which service configuration serves it (off: CACHE_TTL_MS=0).
 */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly kind: 'ours' | 'ceiling';
  readonly dataset: 'analytics' | 'pages';
  readonly cache: 'on' | 'off' | null;
  readonly request: LoadRequest;
  /** Id of the ceiling this scenario's ratio is computed against. */
  readonly ceiling: string | null;
  /** Name under which the answer is kept for the bare route (the "same JSON"). */
  readonly capture?: string;
  /** Sent with If-None-Match holding the tag of a first answer: every answer must be 304. */
  readonly conditional?: boolean;
}

export interface ScenarioUsers {
  /** The analytics tiers: transactions count -> user id. */
  readonly tiers: ReadonlyMap<number, string>;
  readonly historyUser: string;
  readonly creditUser: string;
  /** Users the create scenario writes for (none of them is read by another scenario). */
  readonly writers: readonly string[];
}

export function scenariosFor(users: ScenarioUsers, token: string, hasCacheServer: boolean): Scenario[] {
  const auth = { authorization: `Bearer ${token}` };
  const get = (path: string): LoadRequest => ({ method: 'GET', path, headers: auth });
  const history = get(`/api/v1/users/${users.historyUser}/transactions`);
  const credit = get(`/api/v1/users/${users.creditUser}/credit-score`);
  const createBody = writeBodies(users.writers);
  const post = (path: string, headers: Record<string, string>): LoadRequest => ({
    method: 'POST',
    path,
    headers: { ...headers, 'content-type': 'application/json' },
    body: createBody,
  });
  const list: Scenario[] = [
    ceiling('bare-history', 'bare Fastify route, the history page JSON', get('/bare/history')),
    ceiling('bare-analytics', 'bare Fastify route, the analytics JSON', get('/bare/analytics')),
    ceiling('bare-credit-score', 'bare Fastify route, the credit-score JSON', get('/bare/credit-score')),
    ceiling('raw-find', 'raw indexed find().sort().limit(50) through HTTP', get('/raw/find')),
    ceiling('raw-insert', 'raw insert + event at equal durability through HTTP', post('/raw/insert', {})),
  ];
  if (hasCacheServer) list.push(ceiling('raw-cache-get', 'raw Redis GET through HTTP', get('/raw/cache')));
  for (const cache of ['off', 'on'] as const) {
    const label = cache === 'on' ? 'cached' : 'uncached';
    list.push({
      id: `history-${label}`,
      title: `GET history page (50), ${label}`,
      kind: 'ours',
      dataset: 'pages',
      cache,
      request: history,
      ceiling: cache === 'on' ? 'bare-history' : 'raw-find',
      capture: 'history',
    });
    for (const [count, userId] of users.tiers) {
      list.push({
        id: `analytics-${count}-${label}`,
        title: `GET analytics, user with ${count.toLocaleString('en-US')} transactions, ${label}`,
        kind: 'ours',
        dataset: 'analytics',
        cache,
        request: get(`/api/v1/users/${userId}/analytics`),
        ceiling: 'bare-analytics',
        ...(userId === users.creditUser && { capture: 'analytics' }),
      });
    }
    list.push({
      id: `credit-score-${label}`,
      title: `GET credit score, ${label}`,
      kind: 'ours',
      dataset: 'analytics',
      cache,
      request: credit,
      ceiling: 'bare-credit-score',
      capture: 'credit-score',
    });
  }
  // what a polling client costs once it holds the current answer
  list.push(
    {
      id: 'history-cached-304',
      title: 'GET history page (50), cached, If-None-Match current → 304',
      kind: 'ours',
      dataset: 'pages',
      cache: 'on',
      request: history,
      ceiling: 'bare-history',
      conditional: true,
    },
    {
      id: 'credit-score-cached-304',
      title: 'GET credit score, cached, If-None-Match current → 304',
      kind: 'ours',
      dataset: 'analytics',
      cache: 'on',
      request: credit,
      ceiling: 'bare-credit-score',
      conditional: true,
    },
  );
  list.push({
    id: 'create',
    title: 'POST /transactions',
    kind: 'ours',
    dataset: 'pages',
    cache: 'on',
    request: post('/api/v1/transactions', auth),
    ceiling: 'raw-insert',
  });
  return list;
}

/** Our scenarios named in `ids` (`name*`: every id starting with `name`; null: all), and their ceilings. */
export function selectScenarios(list: readonly Scenario[], ids: readonly string[] | null): Scenario[] {
  if (ids === null) return [...list];
  const named = (id: string) => ids.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : id === p));
  const ours = list.filter((s) => s.kind === 'ours' && named(s.id));
  const ceilings = new Set(ours.map((s) => s.ceiling));
  return list.filter((s) => ours.includes(s) || (s.kind === 'ceiling' && ceilings.has(s.id)));
}

function ceiling(id: string, title: string, request: LoadRequest): Scenario {
  return { id, title, kind: 'ceiling', dataset: 'pages', cache: null, request, ceiling: null };
}

/**
 * Valid create bodies for a random writer, dated within the last week: what a ledger sends. (All
 * on one day for a few users would make each projection re-read a day that keeps growing.)
 */
export function writeBodies(writers: readonly string[], seed = 7): () => string {
  const rand = random(seed);
  const now = Date.now();
  let n = 0;
  return () => {
    n += 1;
    return JSON.stringify({
      user_id: writers[Math.floor(rand() * writers.length)],
      full_name: 'Ama Mensah',
      transaction_date: new Date(now - 3_600_000 - Math.floor(rand() * 7 * 86_400_000)).toISOString(),
      transaction_amount: `${(n % 9000) + 10}.${String(n % 100).padStart(2, '0')}`,
      transaction_type: rand() < 0.45 ? 'credit' : 'debit',
    });
  };
}
