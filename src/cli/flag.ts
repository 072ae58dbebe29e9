/**
 * One command-line flag: how it is parsed, its environment variable, its default and
 * its help. The table of every flag (flag-table.ts) generates the argv parser, --help
 * and the flag section of docs/operations.md, so the three cannot disagree.
 */
import { ClaimcheckError } from '../errors.js';

export type CommandName = 'serve' | 'check' | 'validate' | 'test' | 'healthcheck' | 'demo-token';

export interface FlagDoc {
  /** one line for --help */
  help: string;
  /** the longer text of docs/operations.md (markdown); default: help */
  doc?: string;
  /** placeholder of the value in usage lines, e.g. HOST:PORT; none for switches */
  value?: string;
  /** the default as a reader should see it, when it is computed */
  defaultText?: string;
  /** the variable read when the flag is absent; default CLAIMCHECK_<FLAG> */
  env?: string;
  /** the docs page that explains this group (operations.md or kubernetes.md) */
  group?: 'kubernetes' | 'decision-log';
}

/** What the argv parser hands over: a string, true for a present switch, or every occurrence of a list. */
export type RawValue = string | boolean | string[] | undefined;

export interface Flag<T> extends FlagDoc {
  readonly commands: readonly CommandName[];
  readonly kind: 'string' | 'switch' | 'list';
  readonly defaultValue?: string;
  /** raw (argv, else the environment) → typed value; throws a bad_flag ClaimcheckError */
  read(raw: RawValue, name: string): T;
}

export function badFlag(message: string): never {
  throw new ClaimcheckError('bad_flag', message);
}

export type Parse<T> = (raw: string, name: string) => T;

/** A string flag with a default: the value is always there. */
export function withDefault<T>(commands: readonly CommandName[], defaultValue: string, parse: Parse<T>, doc: FlagDoc): Flag<T> {
  return { ...doc, commands, kind: 'string', defaultValue, read: (raw, name) => parse(typeof raw === 'string' ? raw : defaultValue, name) };
}

/** A string flag without a default: undefined when absent. */
export function optional<T>(commands: readonly CommandName[], parse: Parse<T>, doc: FlagDoc): Flag<T | undefined> {
  return { ...doc, commands, kind: 'string', read: (raw, name) => (typeof raw === 'string' ? parse(raw, name) : undefined) };
}

/** A switch such as --json: true when given (or its variable is "true"). */
export function switchFlag(commands: readonly CommandName[], doc: FlagDoc): Flag<boolean> {
  return { ...doc, commands, kind: 'switch', read: (raw, name) => (typeof raw === 'string' ? bool(raw, name) : raw === true) };
}

/** A flag that may be repeated (--header K=V --header K2=V2); its variable holds one value. */
export function listFlag<T>(commands: readonly CommandName[], parse: Parse<T>, doc: FlagDoc): Flag<T[]> {
  return {
    ...doc,
    commands,
    kind: 'list',
    read: (raw, name) => (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).map((v) => parse(v, name)),
  };
}

export function envName(name: string, flag: FlagDoc): string {
  return flag.env ?? `CLAIMCHECK_${name.replace(/-/g, '_').toUpperCase()}`;
}

export const text: Parse<string> = (raw) => raw;

export function bool(raw: string, name: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  badFlag(`--${name} must be true or false (got "${raw}")`);
}

export function oneOf<T extends string>(allowed: readonly T[]): Parse<T> {
  return (raw, name) => {
    if (!(allowed as readonly string[]).includes(raw)) badFlag(`--${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return raw as T;
  };
}
