import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docker-compose.yml as Docker Compose resolves it, without Docker: scripts/deploy/compose-config
 * runs compose-go, the loader of `docker compose config` (schema, interpolation, merge keys). It
 * is built from the Go module proxy on first use, as the test bed builds FerretDB.
 */

export const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE = join(ROOT, 'scripts', 'deploy', 'compose-config');
const BINARY = join(ROOT, '.cache', 'compose-config', 'compose-config');

function ensureBuilt(): void {
  const built = (() => {
    try {
      return statSync(BINARY).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const changed = ['main.go', 'go.mod', 'go.sum'].some((f) => statSync(join(SOURCE, f)).mtimeMs > built);
  if (!changed) return;
  mkdirSync(join(BINARY, '..'), { recursive: true });
  const build = spawnSync('go', ['build', '-buildvcs=false', '-trimpath', '-o', `${BINARY}.tmp`, '.'], {
    cwd: SOURCE,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (build.error !== undefined || build.status !== 0) {
    throw new Error(
      `building compose-config needs Go 1.24+ (as the test bed does): ${build.error?.message ?? build.stderr}`,
    );
  }
  renameSync(`${BINARY}.tmp`, BINARY);
}

export interface ComposeService {
  readonly image?: string;
  readonly command?: string[] | null;
  readonly entrypoint?: string[] | null;
  readonly restart?: string;
  readonly stop_grace_period?: string;
  readonly environment?: Record<string, string | null>;
  readonly depends_on?: Record<string, { condition: string }>;
  readonly healthcheck?: { test?: string[]; disable?: boolean };
  readonly ports?: { target: number; published?: string; host_ip?: string }[];
  readonly deploy?: { replicas?: number };
  readonly build?: { context: string; dockerfile: string };
  readonly volumes?: { source?: string; target: string }[];
}

export interface ComposeResult {
  readonly status: number | null;
  readonly stderr: string;
  readonly project: { services: Record<string, ComposeService> } | undefined;
}

/** Loads the compose file with exactly these variables (PATH aside) in the environment. */
export function loadCompose(variables: Record<string, string>): ComposeResult {
  ensureBuilt();
  const run = spawnSync(BINARY, [join(ROOT, 'docker-compose.yml')], {
    env: { PATH: process.env.PATH ?? '', ...variables },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return {
    status: run.status,
    stderr: run.stderr,
    project: run.status === 0 ? (JSON.parse(run.stdout) as ComposeResult['project']) : undefined,
  };
}

export const readRepoFile = (...path: string[]): string => readFileSync(join(ROOT, ...path), 'utf8');
