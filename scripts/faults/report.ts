import type { CaseResult } from './case-result.ts';

/** One case's figures as a person reads them, then each check with PASS or FAIL. */
export function formatCase(result: CaseResult): string {
  const { requests } = result;
  const retried = Object.entries(requests.retried);
  const lines = [
    `== ${result.name}: ${result.title} — ${result.ok ? 'OK' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s`,
    `requests: sent ${requests.sent} (retries included), succeeded ${requests.succeeded}, ` +
      `retried ${total(requests.retried)}${retried.length > 0 ? ` (${list(requests.retried)})` : ''}, ` +
      `failed ${requests.failed.length}${requests.failed.length > 0 ? ` (${list(result.failedBy)})` : ''}`,
    `writes: ${result.writes.started} started, ${result.writes.acknowledged} acknowledged (one event each)`,
    `events: produced ${result.events.produced} messages, ${result.events.distinct} distinct events (the relays publish at least once); consumed (committed) ${list(shortGroups(result.events.consumed))}`,
    `users whose statistics differ from a recomputation: ${result.statsDiffer.length} (must be 0)`,
    `transactions acknowledged but missing: ${result.missing.length} (must be 0)`,
    ...result.checks.map(
      (c) => `${c.ok ? 'PASS' : 'FAIL'} ${c.name}${c.ok || c.detail === '' ? '' : `: ${c.detail}`}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** The battery at a glance: one row per case. */
export function formatTable(results: readonly CaseResult[]): string {
  const header = [
    'case',
    'sent',
    'succeeded',
    'retried',
    'failed',
    'writes ack',
    'produced (distinct)',
    'consumed',
    'stats differ',
    'ack missing',
    'result',
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.requests.sent),
    String(r.requests.succeeded),
    String(total(r.requests.retried)),
    r.requests.failed.length === 0 ? '0' : `${r.requests.failed.length} (${list(r.failedBy)})`,
    String(r.writes.acknowledged),
    `${r.events.produced} (${r.events.distinct})`,
    Object.values(r.events.consumed).join('/'),
    String(r.statsDiffer.length),
    String(r.missing.length),
    r.ok ? 'OK' : 'FAILED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const total = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);
const list = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');

/** `faults-<run>-workers-replay-1` as `replay-1`, the stack's own group as `group`. */
function shortGroups(consumed: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(consumed).map(([group, n]) => [/-(replay-\d+)$/.exec(group)?.[1] ?? 'group', n]),
  );
}
