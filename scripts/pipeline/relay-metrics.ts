/**
 * Store operations a worker's outbox relay counted, read from its `/metrics` (the relay exposes
 * them as a counter); null when the worker exposes no such series or cannot be read.
 */
const FAMILIES = ['fido_outbox_relay_operations_total'];

export async function relayOperations(metricsUrl: string): Promise<number | null> {
  let text: string;
  try {
    const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    text = await res.text();
  } catch {
    return null;
  }
  let total: number | null = null;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match === null || !FAMILIES.includes(match[1] ?? '')) continue;
    total = (total ?? 0) + Number(match[2]);
  }
  return total;
}
