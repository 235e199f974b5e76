import { readRepoFile } from './compose-project.ts';

/** One Dockerfile instruction, continuation lines joined, with the stage it belongs to. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly stage: string;
}

export function dockerfileInstructions(text = readRepoFile('Dockerfile')): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replaceAll(/\\\n/g, ' ');
  const instructions: Instruction[] = [];
  let stage = '(global)';
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [, keyword = '', args = ''] = match;
    if (keyword === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    instructions.push({ keyword, args: args.replaceAll(/\s+/g, ' ').trim(), stage });
  }
  return instructions;
}

/** A build stage: its name, base image (ARGs substituted) and instructions after FROM. */
export interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export function dockerfileStages(text = readRepoFile('Dockerfile')): Stage[] {
  const all = dockerfileInstructions(text);
  const globalArgs = argDefaults(all.filter((i) => i.stage === '(global)'));
  const stages: Stage[] = [];
  for (const from of all.filter((i) => i.keyword === 'FROM')) {
    const image = substitute(from.args.split(' ')[0] ?? '', globalArgs);
    stages.push({
      name: from.stage,
      from: image,
      instructions: all.filter((i) => i.stage === from.stage && i.keyword !== 'FROM'),
    });
  }
  return stages;
}

/** ARG defaults (`ARG NAME=value`), in order. */
function argDefaults(instructions: readonly Instruction[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const i of instructions.filter((x) => x.keyword === 'ARG')) {
    const [name = '', value = ''] = i.args.split('=');
    args[name] = value;
  }
  return args;
}

const substitute = (value: string, vars: Readonly<Record<string, string>>): string =>
  value.replaceAll(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => vars[a ?? b ?? ''] ?? '');

/** The variables a stage sets with ENV (`${ROLE}` from its ARG default), in its first `count` instructions. */
export function stageEnv(stage: Stage, count = stage.instructions.length): Record<string, string> {
  const before = stage.instructions.slice(0, count);
  const args = argDefaults(before);
  const env: Record<string, string> = {};
  for (const i of before.filter((x) => x.keyword === 'ENV')) {
    for (const pair of i.args.split(' ')) {
      const [name = '', value = ''] = pair.split('=');
      env[name] = substitute(value, { ...args, ...env });
    }
  }
  return env;
}

/** The variables the runtime stage sets with ENV (`${ROLE}` from its ARG default). */
export function dockerfileEnv(): Record<string, string> {
  const runtime = dockerfileStages().find((s) => s.name === 'runtime');
  if (runtime === undefined) throw new Error('no runtime stage in the Dockerfile');
  return stageEnv(runtime);
}

/** A COPY: sources (from the build context, or from stage `from`) into `dest`. */
export interface Copy {
  readonly from: string | null;
  readonly sources: readonly string[];
  readonly dest: string;
}

export function parseCopy(args: string): Copy {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(' ');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const unsupported = flags.filter((f) => !/^--(from|chown|chmod|link)=?/.test(f));
  if (unsupported.length > 0) throw new Error(`COPY ${args}: flag not replayed: ${unsupported.join(' ')}`);
  const dest = paths.pop();
  if (dest === undefined || paths.length === 0) throw new Error(`COPY ${args}: no source`);
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length) ?? null;
  return { from, sources: paths, dest };
}

/** An exec-form (`["a", "b"]`) or shell-form command, as the argv the container runs. */
export function commandArgv(form: string): string[] {
  const text = form.trim();
  return text.startsWith('[') ? (JSON.parse(text) as string[]) : ['/bin/sh', '-c', text];
}

/** HEALTHCHECK [options] CMD …: the argv of its command (null for HEALTHCHECK NONE). */
export function healthcheckArgv(args: string): string[] | null {
  if (args.trim() === 'NONE') return null;
  const at = args.search(/(?:^|\s)CMD\s/);
  if (at < 0) throw new Error(`HEALTHCHECK ${args}: no CMD`);
  return commandArgv(args.slice(at).trim().slice('CMD'.length));
}
