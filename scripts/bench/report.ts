import type { BenchOptions } from './bench-config.ts';
import type { TargetResult } from './context.ts';
import type { Environment } from './environment.ts';
import { fmt, ratioOf, verdicts } from './verdicts.ts';

export const BEGIN = '<!-- bench:begin (written by `npm run bench`; edit below the end marker) -->';
export const END = '<!-- bench:end -->';

const n = (value: number) => Math.round(value).toLocaleString('en-US');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The results tables of one target: HTTP scenarios, the worker, the targets. */
export function targetTables(result: TargetResult): string {
  const sections: string[] = [];
  if (result.http.length > 0)
    sections.push(`### HTTP (median of the runs by throughput)\n\n${httpTable(result)}`);
  const d = result.drain;
  if (d !== null) {
    const row = [n(d.events), n(d.users), n(d.eventsPerSecond), n(d.cpuUsPerEvent), d.startupS.toFixed(1)];
    const drain = table(
      ['backlog', 'users', 'events/s', 'CPU µs/event', 'start-up s', 'drained', 'markers left'],
      [[...row, d.drained ? 'yes' : 'no', String(d.remainingMarkers)]],
    );
    sections.push(`### Worker: draining a backlog on the bus\n\n${drain}`);
  }
  const l = result.lag;
  if (l !== null) {
    const lag = table(
      [
        'writes/s asked',
        'achieved',
        'errors',
        'not sent',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'unprojected',
        'resolution ms',
      ],
      [
        [
          n(l.targetRate),
          n(l.achievedRate),
          String(l.errors),
          String(l.skipped),
          ...[l.lag.p50, l.lag.p99, l.lag.p999, l.lag.max].map(fmt),
          String(l.unresolved),
          fmt(l.resolutionMs),
        ],
      ],
    );
    sections.push(`### End-to-end lag: write acknowledged → statistics saved\n\n${lag}`);
  }
  const goals = table(
    ['target', 'measured', 'met'],
    verdicts(result).map((v) => [v.goal, v.measured, v.met ? 'yes' : '**no**']),
  );
  sections.push(`### Targets\n\n${goals}`);
  return sections.join('\n\n');
}

function httpTable(result: TargetResult): string {
  return table(
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'CPU µs/req', 'ceiling', 'ratio'],
    result.http.map((o) => {
      const ratio = ratioOf(o, result.http);
      const m = o.median;
      return [
        o.scenario.title,
        n(m.rps),
        ...[m.p50, m.p99, m.p999].map(fmt),
        String(o.runs.reduce((sum, r) => sum + r.errors, 0)),
        n(m.cpuUsPerRequest),
        o.scenario.ceiling ?? '(ceiling)',
        ratio === null ? '' : `${ratio.toFixed(2)}×`,
      ];
    }),
  );
}

export function markdown(
  options: BenchOptions,
  env: Environment,
  results: readonly TargetResult[],
  startedAt: Date,
  seconds: number,
  /** The table of `npm run bench:tracing`, when that part ran. */
  tracing: string | null = null,
): string {
  const versions = Object.entries(env.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const sections = results.map((r) => {
    const datasets = Object.entries(r.datasets)
      .map(
        ([name, d]) =>
          `- \`${name}\`: ${n(d.users)} users, ${n(d.transactions)} transactions` +
          (d.tiers.length > 0 ? ` (tier users with ${d.tiers.map(n).join(' / ')})` : '') +
          `, seeded in ${d.seedSeconds.toFixed(0)} s`,
      )
      .join('\n');
    return [
      `## ${r.name === 'testbed' ? 'Test bed (FerretDB, Redis, Kafka)' : 'Embedded default (SQLite, in-process cache and bus)'}`,
      `Conditions:\n\n${r.conditions.map((c) => `- ${c}`).join('\n')}\n\nData:\n\n${datasets}`,
      targetTables(r),
    ].join('\n\n');
  });
  return [
    BEGIN,
    '# Benchmarks',
    (options.quick
      ? '**Smoke run (BENCH_QUICK=1): tiny data, one short run; the numbers mean nothing.**\n\n'
      : '') +
      `Run ${startedAt.toISOString()} in ${(seconds / 60).toFixed(1)} min at commit \`${env.commit}\`.`,
    [
      `- Machine: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB, Linux ${env.machine.kernel}; load average at start ${env.machine.loadAverageAtStart.join(' / ')}`,
      `- Versions: ${versions}`,
      `- Load: autocannon (programmatic, in the harness process), ${options.connections} connections, 1 request in flight each, ${options.warmupS} s warm-up then ${options.runs} run(s) of ${options.durationS} s per scenario; the median run by throughput is reported, its ratio taken against the ceiling measured in the same run`,
      "- Processes: the load generator and each server under test are separate processes on the same 2 cores (the test bed servers share them too); CPU µs/req is the server process's user + system time (all threads, from /proc) over its requests, less its idle CPU rate (timers, pollers) measured for 1 s just before",
      '- Service settings: LOG_LEVEL=info (one access-log line per request, to a file), JWT (HS256) checked and the rate limit counted on every request (limit out of reach), helmet headers; ceilings run Fastify 5 with the same logger and level and nothing else',
      '- Uncached scenarios run against a service started with CACHE_TTL_MS=0; cached ones against the default, after a warm-up that fills the cache',
      "- Worker drain: a backlog already on the bus (fresh topics and consumer group; its writes committed, their pending markers left as the relay leaves them), timed from the worker process's subscription until its own `events_projected_total` reaches the backlog (reported over IPC every 50 ms); the worker does everything it does per batch in production (statistics, markers, alert rules, credit scores, webhook fan-out)",
      `- End-to-end lag: creates sent open-loop at the asked rate for ${options.lag.seconds} s (at most 256 in flight; writes beyond are counted as not sent), while an observer reads the set of pending markers in a loop; a write's lag runs from its 201 to the end of the first read that no longer finds its marker (the projector deletes it once the statistics are saved): an upper bound, within one read (the resolution column)`,
    ].join('\n'),
    ...sections,
    ...(tracing === null
      ? []
      : [
          '## Tracing: off against on (embedded default)',
          'The part `npm run bench:tracing` runs alone (`BENCH_INSTANCES` processes per mode, measured in rotated rounds): server CPU per request for a cached history read and a create, and a worker draining a backlog. What the rows mean and how to read them: [TRACING.md](TRACING.md#cost).',
          tracing,
        ]),
    END,
  ].join('\n\n');
}
