/**
 * Store operations a worker's outbox relay counted, read from its `/metrics`: those of polls that
 * found events (the cost per event) apart from those of idle polls (a cost per unit of time, which
 * grows with the fleet, not with the events); null when the worker exposes no such series or
 * cannot be read.
 */
export interface RelayOperations {
  readonly found: number;
  readonly idle: number;
}

const SERIES = /^fido_outbox_relay_operations_total\{[^}]*poll="(found|empty)"[^}]*\} ([0-9.e+-]+)$/;

export async function relayOperations(metricsUrl: string): Promise<RelayOperations | null> {
  let text: string;
  try {
    const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    text = await res.text();
  } catch {
    return null;
  }
  let seen = false;
  const counted = { found: 0, idle: 0 };
  for (const line of text.split('\n')) {
    const match = SERIES.exec(line);
    if (match === null) continue;
    seen = true;
    counted[match[1] === 'found' ? 'found' : 'idle'] += Number(match[2]);
  }
  return seen ? counted : null;
}

/** The sum of several workers' counts; null when any of them could not be read. */
export function sumRelayOperations(counts: readonly (RelayOperations | null)[]): RelayOperations | null {
  if (counts.some((c) => c === null)) return null;
  return counts.reduce<RelayOperations>(
    (sum, c) => ({ found: sum.found + (c?.found ?? 0), idle: sum.idle + (c?.idle ?? 0) }),
    { found: 0, idle: 0 },
  );
}
