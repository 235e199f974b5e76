import type { Keyring } from '../../src/crypto/keyring.ts';
import { newEventId, newTransactionId } from '../../src/ids/ids.ts';
import { eventStateOf, type TransactionWrite } from '../../src/transactions/transaction.ts';
import { sealRecord } from '../../src/transactions/transaction-view.ts';
import type { DatasetSize } from './bench-config.ts';

/**
 * Realistic seed data, deterministic for a given seed (ids and IVs aside): users whose history
 * starts somewhere in the last year, skewed activity (most users have a few transactions, some
 * many), log-normal amounts, 55 % debits, a few users who also hold USD. Every transaction is
 * built as the service builds a create (sealed name, audit line, event), version 1.
 */

export interface SeedUser {
  readonly id: string;
  readonly count: number;
  /** The tier's size for tier users (analytics tiers, history user), null for the others. */
  readonly tier: number | null;
}

const DAY_MS = 86_400_000;
const HISTORY_DAYS = 365;
export const SEED_ACTOR = 'bench-seed';

const FIRST = [
  'Ama',
  'Kwame',
  'Akosua',
  'Kofi',
  'Abena',
  'Yaw',
  'Esi',
  'Kwabena',
  'Adwoa',
  'Kojo',
  'Nakato',
  'Okello',
  'Achieng',
  'Mukasa',
  'Namubiru',
  'Ssempala',
  'Aminata',
  'Moussa',
  'Fatou',
  'Ibrahima',
];
const LAST = [
  'Mensah',
  'Owusu',
  'Boateng',
  'Asante',
  'Osei',
  'Agyeman',
  'Addo',
  'Darko',
  'Nsubuga',
  'Kato',
  'Ouma',
  'Wanjiru',
  'Mugisha',
  'Tumusiime',
  'Diallo',
  'Traore',
  'Kone',
  'Ndiaye',
  'Sow',
  'Camara',
];

/** mulberry32: a small seeded PRNG, so a run seeds the same shape of data as the last one. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Background users first (exponentially skewed counts, at least 1 each), tier users last. */
export function planUsers(prefix: string, size: DatasetSize, rand: () => number): SeedUser[] {
  const tierTotal = size.tiers.reduce((a, b) => a + b, 0);
  const remaining = Math.max(size.users, size.transactions - tierTotal);
  const weights = Array.from({ length: size.users }, () => -Math.log(1 - rand()));
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.max(1, Math.floor((w / sum) * remaining)));
  let short = remaining - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; short > 0 && counts.length > 0; i = (i + 1) % counts.length, short--) {
    counts[i] = (counts[i] ?? 0) + 1;
  }
  const width = String(size.users).length;
  const users: SeedUser[] = counts.map((count, i) => ({
    id: `${prefix}u${String(i).padStart(width, '0')}`,
    count,
    tier: null,
  }));
  for (const tier of size.tiers) users.push({ id: `${prefix}t${tier}`, count: tier, tier });
  return users;
}

/** The user's transactions in batches, oldest first; the dates end before `now`. */
export function* writesOf(
  user: SeedUser,
  keyring: Keyring,
  rand: () => number,
  now: Date,
  batchSize: number,
): Generator<TransactionWrite[]> {
  const fullName = `${pick(FIRST, rand)} ${pick(LAST, rand)}`;
  const holdsUsd = user.tier === null && rand() < 0.05;
  // tier users span the whole year, so their statistics have as many days as their count allows
  const span = (user.tier === null ? 0.05 + rand() * 0.95 : 1) * HISTORY_DAYS * DAY_MS;
  const start = now.getTime() - span;
  const dates = Array.from({ length: user.count }, () => start + rand() * (span - 3_600_000)).sort(
    (a, b) => a - b,
  );
  for (let i = 0; i < dates.length; i += batchSize) {
    yield dates.slice(i, i + batchSize).map((ms) => {
      const transactionDate = new Date(Math.floor(ms));
      const createdAt = new Date(Math.min(now.getTime(), ms + rand() * 120_000));
      const id = newTransactionId(createdAt.getTime());
      const fields = {
        userId: user.id,
        fullName,
        transactionDate,
        amountMinor: amount(rand),
        currency: holdsUsd && rand() < 0.2 ? 'USD' : 'GHS',
        type: rand() < 0.45 ? ('credit' as const) : ('debit' as const),
      };
      const meta = { version: 1, createdAt, updatedAt: createdAt, deletedAt: null };
      const record = sealRecord(id, fields, meta, keyring);
      const state = eventStateOf(record);
      return {
        record,
        event: {
          eventId: newEventId(),
          type: 'transaction.created',
          occurredAt: createdAt,
          userId: user.id,
          transactionId: id,
          version: 1,
          before: null,
          after: state,
        },
        audit: {
          version: 1,
          action: 'created',
          at: createdAt,
          actor: SEED_ACTOR,
          fullNameSealed: record.fullNameSealed,
          state,
        },
      } satisfies TransactionWrite;
    });
  }
}

/** Log-normal around 50.00 (minor units), between 1.00 and 500,000.00. */
function amount(rand: () => number): bigint {
  const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const minor = Math.round(Math.exp(Math.log(5_000) + 1.1 * normal));
  return BigInt(Math.min(50_000_000, Math.max(100, minor)));
}

function pick(list: readonly string[], rand: () => number): string {
  return list[Math.floor(rand() * list.length)] ?? 'Ama';
}
