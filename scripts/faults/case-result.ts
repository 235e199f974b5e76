import type { ServiceProcess } from '../stack/processes.ts';
import type { Check } from '../stack/verify.ts';
import type { ClientStats } from '../stack/client.ts';
import type { FaultCase } from './case.ts';
import type { Reconciled } from './reconcile-case.ts';

/** What the battery reports of one case. */
export interface CaseResult extends Reconciled {
  readonly name: string;
  readonly title: string;
  readonly requests: ClientStats;
  readonly checks: readonly Check[];
  readonly ok: boolean;
  readonly durationMs: number;
}

/** A case that threw before its reconciliation: failed, with why. */
export function brokenCase(fault: FaultCase, error: unknown, durationMs: number): CaseResult {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    name: fault.name,
    title: fault.title,
    requests: { sent: 0, succeeded: 0, retried: {}, failed: [], cuts: [] },
    writes: { started: 0, acknowledged: 0 },
    failedBy: {},
    events: { produced: 0, distinct: 0, consumed: {} },
    statsDiffer: [],
    missing: [],
    analyticsMismatches: [],
    checks: [{ name: 'the case ran to its end', ok: false, detail: detail.slice(0, 500) }],
    ok: false,
    durationMs,
  };
}

/** The last errors, then warnings, each process logged (the 500s of a failed case are errors). */
export function problemsLogged(processes: readonly ServiceProcess[]): string[] {
  const at = (min: number, max: number, count: number) => (p: ServiceProcess) =>
    p.logs
      .filter((l) => typeof l.level === 'number' && l.level >= min && l.level < max)
      .slice(-count)
      .map((l) => `${p.name}: ${JSON.stringify(l).slice(0, 1200)}`);
  return [...processes.flatMap(at(50, 100, 3)), ...processes.flatMap(at(40, 50, 1))];
}
