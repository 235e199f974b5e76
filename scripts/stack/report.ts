import type { StackReport } from './verify.ts';

/** The run's report as a person reads it: counts, then each check with PASS or FAIL. */
export function formatReport(report: StackReport): string {
  const { requests, acknowledged, statistics } = report;
  const retried = Object.entries(requests.retried);
  const retriedTotal = retried.reduce((sum, [, n]) => sum + n, 0);
  const lines = [
    `requests: sent ${requests.sent}, succeeded ${requests.succeeded}, retried ${retriedTotal}` +
      (retried.length > 0 ? ` (${retried.map(([reason, n]) => `${reason} ${n}`).join(', ')})` : '') +
      `, failed ${requests.failed.length}`,
    `writes: ${report.started} started; acknowledged (one event each): ${acknowledged.creates} creates, ${acknowledged.patches} patches, ` +
      `${acknowledged.deletes} deletes; reads ${acknowledged.reads}`,
    `kills: api-1 and worker-1 (SIGKILL) after ${report.kill.afterWrites} writes, ` +
      `${report.kill.inFlight} requests in flight on api-1 when signalled; ${requests.cuts.length} cut off and retried ` +
      `(${report.upstreamFailures.length} answered 502 by HAProxy, ${requests.cuts.length - report.upstreamFailures.length} connections closed unanswered)`,
    `surviving worker-2 owns ${report.survivorPartitions.length} partitions: ${partitionList(report.survivorPartitions)}`,
    `statistics: ${statistics.users} users, ${statistics.reconcileDifferences} days differ from a recomputation, ` +
      `${statistics.analyticsMismatches.length} analytics answers differ from the client's model`,
    ...report.checks.map(
      (c) => `${c.ok ? 'PASS' : 'FAIL'} ${c.name}${c.ok || c.detail === '' ? '' : `: ${c.detail}`}`,
    ),
    `${report.ok ? 'OK' : 'FAILED'} in ${(report.durationMs / 1000).toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `prefix.transactions.v1:0`, `…:1` as `transactions.v1 [0 1]` (the run's topic prefix left out). */
export function partitionList(partitions: readonly string[]): string {
  const byTopic = new Map<string, string[]>();
  for (const p of partitions) {
    const at = p.lastIndexOf(':');
    const topic = p.slice(0, at).replace(/^[a-z]+-[0-9a-f]+\./, '');
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), p.slice(at + 1)]);
  }
  return [...byTopic].map(([topic, list]) => `${topic} [${list.join(' ')}]`).join(', ');
}
