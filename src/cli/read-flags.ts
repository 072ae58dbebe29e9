/** argv (and CLAIMCHECK_* variables) → the typed values of one command's flags. */
import { parseArgs } from 'node:util';
import { badFlag, envName, type CommandName, type RawValue } from './flag.js';
import { FLAGS, type FlagName } from './flag-table.js';

export type FlagValues = { readonly [K in FlagName]: ReturnType<(typeof FLAGS)[K]['read']> };

export interface ReadFlags {
  values: FlagValues;
  positionals: string[];
  /** flags given on the command line or through their variable */
  given: ReadonlySet<FlagName>;
}

export function flagsOf(command: CommandName): FlagName[] {
  return (Object.keys(FLAGS) as FlagName[]).filter((n) => FLAGS[n].commands.includes(command));
}

export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

export function readFlags(command: CommandName, argv: string[], env: NodeJS.ProcessEnv = process.env, allowPositionals = false): ReadFlags {
  const mine = flagsOf(command);
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const n of mine) spec[n] = FLAGS[n].kind === 'switch' ? { type: 'boolean' } : { type: 'string', ...(FLAGS[n].kind === 'list' ? { multiple: true } : {}) };
  let parsed: { values: Record<string, RawValue>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: spec, strict: true, allowPositionals }) as typeof parsed;
  } catch (e) {
    const first = (e as Error).message.split('\n')[0] ?? String(e);
    badFlag(`${command}: ${first}${/Unknown option/.test(first) ? ` (claimcheck ${command} --help lists every flag)` : ''}`);
  }
  const given = new Set<FlagName>();
  const values: Record<string, unknown> = {};
  for (const n of Object.keys(FLAGS) as FlagName[]) {
    let raw: RawValue;
    if (mine.includes(n)) {
      raw = parsed.values[n] ?? env[envName(n, FLAGS[n])];
      if (raw !== undefined) given.add(n);
    }
    values[n] = FLAGS[n].read(raw, n);
  }
  return { values: values as FlagValues, positionals: parsed.positionals, given };
}
