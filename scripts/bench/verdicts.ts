import type { TargetResult } from './context.ts';
import type { ScenarioOutcome } from './http-bench.ts';

/** The targets, judged on one target's results of this run. */
export interface Verdict {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Throughput of a scenario over its ceiling's, both the median runs of this run. */
export function ratioOf(outcome: ScenarioOutcome, all: readonly ScenarioOutcome[]): number | null {
  const ceiling = all.find((o) => o.scenario.id === outcome.scenario.ceiling);
  if (ceiling === undefined || ceiling.median.rps === 0) return null;
  return outcome.median.rps / ceiling.median.rps;
}

export function verdicts(result: TargetResult): Verdict[] {
  const list = result.http.length > 0 ? httpVerdicts(result.http) : [];
  const drain = result.drain;
  if (drain !== null) {
    const rate = `${Math.round(drain.eventsPerSecond).toLocaleString('en-US')} events/s`;
    list.push({
      goal: 'worker ≥ 5,000 events/s draining a backlog',
      measured: drain.drained ? rate : `${rate} (not drained by the deadline)`,
      met: drain.drained && drain.eventsPerSecond >= 5_000,
    });
  }
  const lag = result.lag;
  if (lag !== null) {
    const kept = lag.achievedRate >= 0.95 * lag.targetRate && lag.unresolved === 0;
    const late = lag.unresolved > 0 ? `, ${lag.unresolved} unprojected at the deadline` : '';
    list.push({
      goal: `end-to-end lag p99 < 100 ms at ${lag.targetRate} writes/s`,
      measured: `${fmt(lag.lag.p99)} ms at ${Math.round(lag.achievedRate)} writes/s${late}`,
      met: kept && lag.lag.p99 < 100 && lag.errors === 0,
    });
  }
  const all = result.http;
  const errors =
    all.reduce((sum, o) => sum + o.runs.reduce((s, r) => s + r.errors, 0), 0) + (lag?.errors ?? 0);
  list.push({ goal: 'errors = 0 in every scenario', measured: String(errors), met: errors === 0 });
  return list;
}

function httpVerdicts(all: readonly ScenarioOutcome[]): Verdict[] {
  const ratio = (id: string) => {
    const outcome = all.find((o) => o.scenario.id === id);
    return outcome === undefined ? null : ratioOf(outcome, all);
  };
  const list: Verdict[] = [];
  const atLeast = (goal: string, value: number | null, min: number) => {
    const measured = value === null ? 'n/a' : `${value.toFixed(2)}×`;
    list.push({ goal, measured, met: value !== null && value >= min });
  };
  atLeast('cached history ≥ 0.5× bare Fastify route', ratio('history-cached'), 0.5);
  const cachedAnalytics = all.filter((o) => /^analytics-\d+-cached$/.test(o.scenario.id));
  const worst = cachedAnalytics.map((o) => ratioOf(o, all) ?? 0).sort((a, b) => a - b)[0] ?? null;
  atLeast('cached analytics ≥ 0.5× bare Fastify route (worst tier)', worst, 0.5);
  atLeast('cached credit score ≥ 0.5× bare Fastify route', ratio('credit-score-cached'), 0.5);
  atLeast('uncached history ≥ 0.6× raw find through HTTP', ratio('history-uncached'), 0.6);
  atLeast('create ≥ 0.5× raw insert + event at equal durability', ratio('create'), 0.5);
  for (const id of ['history-cached', 'credit-score-cached']) {
    const full = all.find((o) => o.scenario.id === id);
    const notModified = all.find((o) => o.scenario.id === `${id}-304`);
    if (full === undefined || notModified === undefined) continue;
    const [a, b] = [notModified.median.cpuUsPerRequest, full.median.cpuUsPerRequest];
    list.push({
      goal: `${id}: 304 cheaper than 200 (server CPU µs/req)`,
      measured: `${a.toFixed(0)} vs ${b.toFixed(0)} µs; ${notModified.median.rps.toFixed(0)} vs ${full.median.rps.toFixed(0)} req/s`,
      met: a < b,
    });
  }
  for (const label of ['uncached', 'cached']) {
    const tiers = all
      .filter((o) => new RegExp(`^analytics-\\d+-${label}$`).test(o.scenario.id))
      .sort((a, b) => tierOf(a) - tierOf(b));
    const small = tiers[0];
    const large = tiers.at(-1);
    if (small === undefined || large === undefined) continue;
    const value = small.median.p99 > 0 ? large.median.p99 / small.median.p99 : null;
    list.push({
      goal: `analytics p99, ${tierOf(large)} vs ${tierOf(small)} transactions (${label}) ≤ 1.5×`,
      measured:
        value === null
          ? 'n/a'
          : `${value.toFixed(2)}× (${fmt(large.median.p99)} vs ${fmt(small.median.p99)} ms)`,
      met: value !== null && value <= 1.5,
    });
  }
  return list;
}

function tierOf(outcome: ScenarioOutcome): number {
  return Number(/^analytics-(\d+)-/.exec(outcome.scenario.id)?.[1] ?? 0);
}

export function fmt(ms: number | undefined): string {
  if (ms === undefined) return '?';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}
