/**
 * A brute-force reference for the analytics endpoint, written independently of src/: it keeps
 * every live transaction in memory and recomputes the SPEC's answer by scanning them all.
 */
export interface ModelTx {
  userId: string;
  day: string;
  cents: bigint;
  currency: string;
  type: 'credit' | 'debit';
}

const format = (cents: bigint): string => {
  const text = cents.toString().padStart(3, '0');
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
};

function halfEven(total: bigint, n: bigint): bigint {
  const q = total / n;
  const r = total - q * n;
  if (r * 2n > n) return q + 1n;
  if (r * 2n < n) return q;
  return q % 2n === 0n ? q : q + 1n;
}

export function expectedAnalytics(
  all: Iterable<ModelTx>,
  userId: string,
  from: string | null,
  to: string | null,
) {
  const txs = [...all].filter(
    (t) => t.userId === userId && (from === null || t.day >= from) && (to === null || t.day <= to),
  );
  const perDay = new Map<string, number>();
  for (const t of txs) perDay.set(t.day, (perDay.get(t.day) ?? 0) + 1);
  let busiest: { date: string; transaction_count: number } | null = null;
  for (const [date, n] of [...perDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (busiest === null || n >= busiest.transaction_count) busiest = { date, transaction_count: n };
  }
  const currencies = [...new Set(txs.map((t) => t.currency))].sort();
  const by_currency = currencies.map((currency) => {
    const mine = txs.filter((t) => t.currency === currency);
    const credits = mine.filter((t) => t.type === 'credit');
    const debits = mine.filter((t) => t.type === 'debit');
    const sum = (list: ModelTx[]) => list.reduce((acc, t) => acc + t.cents, 0n);
    return {
      currency,
      transaction_count: mine.length,
      average_transaction_value: format(halfEven(sum(mine), BigInt(mine.length))),
      credit: { count: credits.length, total: format(sum(credits)) },
      debit: { count: debits.length, total: format(sum(debits)) },
    };
  });
  const only = by_currency.length === 1 ? by_currency[0] : undefined;
  const none = by_currency.length === 0;
  return {
    user_id: userId,
    from,
    to,
    transaction_count: txs.length,
    day_with_most_transactions: busiest,
    average_transaction_value: only?.average_transaction_value ?? null,
    total_credit: only?.credit.total ?? (none ? '0.00' : null),
    total_debit: only?.debit.total ?? (none ? '0.00' : null),
    by_currency,
  };
}
