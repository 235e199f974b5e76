import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { ROOT, readRepoFile } from './compose-project.ts';
import { buildContext } from './docker-context.ts';
import {
  commandArgv,
  dockerfileStages,
  healthcheckArgv,
  parseCopy,
  stageEnv,
  type Stage,
} from './dockerfile.ts';

/**
 * `docker build` replayed without an engine. Each stage gets a scratch directory standing for its
 * filesystem root; COPY takes exactly what the build context (after .dockerignore) or an earlier
 * stage holds; RUN steps run for real with `sh -c` in the stage's WORKDIR, with three liberties,
 * each because no engine runs here:
 * - `npm ci --ignore-scripts [--omit=dev]` links the packages the lockfile names (dev ones left out
 *   with --omit=dev) from the checkout's installed node_modules, each version checked against the
 *   lockfile; the rest of the step runs as written;
 * - the image's paths under its WORKDIR (`/app/...`) in commands and ENV values point into the
 *   scratch root;
 * - the base image's user `node` is a local unprivileged stand-in: `nobody` when the test runs as
 *   root (then CMD and HEALTHCHECK run as that user), else the current user;
 * and the base image's `node` is this checkout's Node 24 (same major), first on PATH.
 * An instruction the replay does not know fails it, so a new one gets replayed consciously.
 */
export interface ReplayedStage {
  readonly name: string;
  /** The scratch directory standing for the stage's `/`. */
  readonly root: string;
  /** WORKDIR, on this machine. */
  readonly workdir: string;
  /** ENV, with image paths mapped into the scratch root. */
  readonly env: Readonly<Record<string, string>>;
  /** The uid/gid CMD and HEALTHCHECK run as (undefined: the current user). */
  readonly user: { uid: number; gid: number } | undefined;
  readonly cmd: readonly string[] | null;
  readonly healthcheck: readonly string[] | null;
  /** The environment a process of this image starts with (PATH, HOME, ENV). */
  processEnv(extra?: Readonly<Record<string, string>>): Record<string, string>;
  /** Maps the image's paths (`/app/...`) in a value to this machine's. */
  mapPath(value: string): string;
}

export interface ReplayOptions {
  readonly dockerfile?: string;
  readonly dockerignore?: string;
  readonly say?: (line: string) => void;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NODE_DIR = dirname(realpathSync(process.execPath));
const STAND_IN = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

export function replayDockerfile(options: ReplayOptions = {}): Map<string, ReplayedStage> {
  const say = options.say ?? (() => undefined);
  const context = buildContext(options.dockerignore ?? readRepoFile('.dockerignore'));
  const scratch = mkdtempSync(join(tmpdir(), 'fido-image-'));
  chmodSync(scratch, 0o755); // the stand-in user must reach its files
  const stages = new Map<string, ReplayedStage>();
  try {
    for (const stage of dockerfileStages(options.dockerfile)) {
      stages.set(stage.name, replayStage(stage, join(scratch, stage.name), context, stages, say));
    }
  } catch (error) {
    removeReplay(stages);
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  return stages;
}

/** Removes the scratch directories of a replay. */
export function removeReplay(stages: ReadonlyMap<string, ReplayedStage>): void {
  for (const stage of stages.values()) rmSync(dirname(stage.root), { recursive: true, force: true });
}

function replayStage(
  stage: Stage,
  root: string,
  context: readonly string[],
  earlier: ReadonlyMap<string, ReplayedStage>,
  say: (line: string) => void,
): ReplayedStage {
  if (!/^node:24[.-]/.test(stage.from))
    throw new Error(`stage ${stage.name}: base ${stage.from} is not replayed`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  let workdir = '/';
  let user: string | null = null;
  let cmd: string[] | null = null;
  let healthcheck: string[] | null = null;
  const mapPath = (value: string): string =>
    workdir === '/'
      ? value
      : value.replaceAll(new RegExp(`(^|[\\s=:"'])${workdir}(?=/|\\s|$|")`, 'g'), `$1${root}${workdir}`);
  const home = join(root, 'home', 'node');
  let done = 0; // instructions replayed so far: ENV applies from where it stands
  const processEnv = (extra: Readonly<Record<string, string>> = {}) => {
    const env = Object.fromEntries(Object.entries(stageEnv(stage, done)).map(([k, v]) => [k, mapPath(v)]));
    return { PATH: `${NODE_DIR}:${SYSTEM_PATH}`, HOME: home, ...env, ...extra };
  };
  mkdirSync(home, { recursive: true });
  if (STAND_IN !== undefined) chownTree(home, STAND_IN);
  for (const i of stage.instructions) {
    done++;
    say(`[${stage.name}] ${i.keyword} ${i.args}`);
    const here = join(root, workdir);
    switch (i.keyword) {
      case 'ARG':
      case 'ENV':
      case 'EXPOSE':
        break; // read by stageEnv; EXPOSE only documents
      case 'WORKDIR':
        workdir = posix.resolve(workdir, i.args);
        mkdirSync(join(root, workdir), { recursive: true });
        break;
      case 'COPY':
        copy(i.args, root, workdir, context, earlier);
        break;
      case 'RUN':
        run(
          i.args,
          here,
          processEnv({ npm_config_cache: join(root, '.npm'), npm_config_update_notifier: 'false' }),
          mapPath,
        );
        break;
      case 'USER':
        user = i.args;
        if (user !== 'node') throw new Error(`USER ${user}: only the base image's node user is replayed`);
        break;
      case 'CMD':
        cmd = commandArgv(i.args);
        break;
      case 'HEALTHCHECK':
        healthcheck = healthcheckArgv(i.args);
        break;
      default:
        throw new Error(`stage ${stage.name}: ${i.keyword} is not replayed`);
    }
  }
  return {
    name: stage.name,
    root,
    workdir: join(root, workdir),
    env: processEnv({}),
    user: user === null ? undefined : STAND_IN,
    cmd,
    healthcheck,
    processEnv,
    mapPath,
  };
}

function copy(
  args: string,
  root: string,
  workdir: string,
  context: readonly string[],
  earlier: ReadonlyMap<string, ReplayedStage>,
): void {
  const { from, sources, dest } = parseCopy(args);
  const target = join(root, posix.resolve(workdir, dest));
  const intoDir = dest.endsWith('/') || sources.length > 1;
  if (from !== null) {
    const stage = earlier.get(from);
    if (stage === undefined) throw new Error(`COPY --from=${from}: no such earlier stage`);
    for (const source of sources) {
      const path = join(stage.root, posix.resolve('/', source));
      if (!existsSync(path)) throw new Error(`COPY --from=${from} ${source}: not in stage ${from}`);
      cpSync(path, intoDir ? join(target, posix.basename(source)) : target, { recursive: true });
    }
    return;
  }
  for (const source of sources) {
    const name = posix.normalize(source).replace(/\/$/, '');
    const glob = /[*?[]/.test(name)
      ? new RegExp(`^${name.replaceAll('.', '\\.').replaceAll('*', '[^/]*').replaceAll('?', '[^/]')}$`)
      : null;
    const files = context.filter((f) =>
      name === '.' ? true : glob === null ? f === name || f.startsWith(`${name}/`) : glob.test(f),
    );
    if (files.length === 0) {
      throw new Error(`COPY ${source}: not in the build context (missing, or excluded by .dockerignore)`);
    }
    for (const file of files) {
      const rel =
        name === '.'
          ? file
          : file === name || glob !== null
            ? posix.basename(file)
            : file.slice(name.length + 1);
      const to = intoDir || file !== name ? join(target, rel) : target;
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(ROOT, file), to);
    }
  }
}

function run(
  command: string,
  cwd: string,
  env: Record<string, string>,
  mapPath: (value: string) => string,
): void {
  const shell = (script: string) => {
    const result = spawnSync('/bin/sh', ['-c', mapUsers(mapPath(script))], {
      cwd,
      env,
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (result.status !== 0) {
      throw new Error(
        `RUN ${script}: exit ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`,
      );
    }
  };
  const pending: string[] = [];
  for (const part of command.split(/\s*&&\s*/)) {
    if (!/^npm ci\b/.test(part)) {
      pending.push(part);
      continue;
    }
    if (pending.length > 0) shell(pending.splice(0).join(' && '));
    npmCi(part, cwd);
  }
  if (pending.length > 0) shell(pending.join(' && '));
}

/** The base image's `node` user (and group) in chown arguments, as the local stand-in's ids. */
function mapUsers(script: string): string {
  const ids = STAND_IN ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  return script.replaceAll(
    /\bchown(\s+-\S+)*\s+node(:node)?(?=\s)/g,
    (_, flags?: string, group?: string) =>
      `chown${flags ?? ''} ${ids.uid}${group === undefined ? '' : `:${ids.gid}`}`,
  );
}

interface LockPackage {
  readonly version?: string;
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly bin?: Record<string, string>;
}

/** `npm ci` offline: the lockfile's top-level packages, linked from the installed node_modules. */
function npmCi(command: string, cwd: string): void {
  if (!/\s--ignore-scripts\b/.test(command)) {
    throw new Error(`${command}: install scripts cannot be replayed offline (the image would run them)`);
  }
  const omitDev = /\s--omit=dev\b/.test(command);
  const lock = JSON.parse(readFileSync(join(cwd, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  mkdirSync(join(cwd, 'node_modules', '.bin'), { recursive: true });
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) || (omitDev && meta.dev === true)) continue;
    const installed = join(ROOT, key);
    if (!existsSync(installed) && meta.optional === true) continue; // another platform's build
    const version = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string })
      .version;
    if (version !== meta.version) {
      throw new Error(`${key} is ${version}, the lockfile says ${meta.version}: run npm ci in the checkout`);
    }
    const real = realpathSync(installed);
    mkdirSync(dirname(join(cwd, key)), { recursive: true });
    symlinkSync(real, join(cwd, key));
    for (const [bin, path] of Object.entries(meta.bin ?? {})) {
      const link = join(cwd, 'node_modules', '.bin', bin);
      if (!existsSync(link)) symlinkSync(join(real, path), link);
    }
  }
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, path]);
}
