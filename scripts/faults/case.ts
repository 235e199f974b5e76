import type { Storage } from '../../src/storage.port.ts';
import type { Stack } from '../stack/launch.ts';
import type { Servers } from '../stack/servers.ts';
import type { LoadResult } from '../stack/load.ts';

/** One fault of the battery: what it does to the running stack while the steady load goes on. */
export interface FaultCase {
  readonly name: string;
  readonly title: string;
  /**
   * What a request may be retried or fail for during this fault, as the client names it
   * (`unavailable_503`, `connection_error`, `upstream_failed_502`, `idempotency_in_flight_409`)
   * or by final status (`503`); anything else fails the case.
   */
  readonly tolerated: readonly string[];
  /** Before the steady load starts (the replay case writes and settles its reference users). */
  before?(context: CaseContext): Promise<void>;
  /** The fault, once the load is warm; resolves when the fault is over (servers back). */
  inject(context: CaseContext): Promise<void>;
  /** After the load, before the reconciliation. */
  after?(context: CaseContext): Promise<void>;
}

export interface CaseContext {
  readonly stack: Stack;
  readonly servers: Servers;
  readonly settings: FaultSettings;
  /** The run's database, open for the case's own checks. */
  readonly storage: Storage;
  readonly say: (line: string) => void;
  readonly check: (name: string, ok: boolean, detail?: string) => void;
  /** Consumer groups besides the stack's own whose consumption is reconciled (replays). */
  readonly replayGroups: string[];
  /** A load on users of its own (besides the steady load), reconciled with it. */
  readonly extraLoad: (label: string, writes: number) => Promise<LoadResult>;
  /** Waits until every group reconciled has consumed every event produced so far. */
  readonly waitConsumed: (timeoutMs?: number) => Promise<void>;
}

export interface FaultSettings {
  readonly partitions: number;
  readonly users: number;
  readonly concurrency: number;
  /** Acknowledged writes before the fault, and after it before the load stops. */
  readonly warmupWrites: number;
  readonly tailWrites: number;
  /** Hard bounds of one case's load. */
  readonly maxWrites: number;
  readonly maxLoadSeconds: number;
  readonly kafkaDownSeconds: number;
  /** How long Redis and the store stay down. */
  readonly outageSeconds: number;
}
