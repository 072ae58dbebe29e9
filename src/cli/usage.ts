/** `--help` text and the docs' flag tables, both from the flag table. */
import { envName, type CommandName } from './flag.js';
import { FLAGS, type FlagName } from './flag-table.js';
import { flagsOf } from './read-flags.js';

export interface CommandDoc {
  synopsis: string;
  summary: string;
  /** lines after the flags: exit codes, examples */
  notes?: string[];
}

export const COMMANDS: Record<CommandName, CommandDoc> = {
  serve: { synopsis: 'claimcheck serve [flags]', summary: 'serve Envoy ext_authz (gRPC) with the configuration of a directory or of the Kubernetes API' },
  check: {
    synopsis: 'claimcheck check --host H --path P [--method M] [--token JWT | --header K=V ...] [flags]',
    summary: "one decision without a server, with the full explanation (keys are fetched as the server would)",
    notes: ['exit 0 allow, 1 deny, 2 bad flags or a broken configuration'],
  },
  validate: {
    synopsis: 'claimcheck validate FILE|DIR ... [flags]',
    summary: 'schema and semantic checks of manifests, no network',
    notes: ['exit 0 valid, 1 any error (or no manifest found), 2 bad flags'],
  },
  test: {
    synopsis: 'claimcheck test FILE|DIR ... [flags]',
    summary: 'run policy tests (kind: PolicyTest); see docs/policy-tests.md',
    notes: ['exit 0 all pass, 1 any fail, 2 a broken test file or configuration'],
  },
  healthcheck: {
    synopsis: 'claimcheck healthcheck [flags]',
    summary: "ask a running server's grpc.health.v1 service whether it is SERVING",
    notes: ['exit 0 SERVING, 1 otherwise'],
  },
  'demo-token': {
    synopsis: 'claimcheck demo-token [flags]',
    summary: 'sign a token with the bundled, published DEMO key (for the bundled examples only)',
  },
};

function defaultOf(n: FlagName): string | undefined {
  const f = FLAGS[n];
  if (f.defaultText !== undefined) return f.defaultText;
  if ('defaultValue' in f && f.defaultValue !== undefined) return f.defaultValue === '' ? '(empty)' : f.defaultValue;
  return undefined;
}

export function commandHelp(command: CommandName): string {
  const c = COMMANDS[command];
  const rows = flagsOf(command).map((n) => {
    const f = FLAGS[n];
    const left = `  --${n}${f.value ? ` ${f.value}` : ''}`;
    const def = defaultOf(n);
    const right = `${f.help}${def !== undefined ? ` (default: ${def})` : ''}${f.kind === 'list' ? ' (repeatable)' : ''} [${envName(n, f)}]`;
    return { left, right };
  });
  const width = Math.min(36, Math.max(...rows.map((r) => r.left.length)) + 2);
  const lines = [`usage: ${c.synopsis}`, '', c.summary, '', 'flags:'];
  for (const r of rows) lines.push(r.left.length + 2 > width ? `${r.left}\n${' '.repeat(width)}${r.right}` : `${r.left.padEnd(width)}${r.right}`);
  lines.push(`  -h, --help${' '.repeat(Math.max(2, width - 12))}this help`);
  lines.push('', 'Every flag also reads the environment variable in brackets.');
  for (const n of c.notes ?? []) lines.push(n);
  return lines.join('\n') + '\n';
}

export function mainHelp(): string {
  const lines = ['claimcheck — Envoy external authorization for JWTs', '', 'usage:'];
  for (const c of Object.keys(COMMANDS) as CommandName[]) lines.push(`  ${COMMANDS[c].synopsis}`);
  lines.push('  claimcheck --version', '', 'claimcheck <command> --help lists every flag of a command and its environment variable.');
  return lines.join('\n') + '\n';
}

/** The markdown table of one command's flags (or one group of them) for the docs. */
export function flagTable(command: CommandName, group?: string): string {
  const out = ['| flag | env | default | meaning |', '|---|---|---|---|'];
  for (const n of flagsOf(command)) {
    const f = FLAGS[n];
    if ((f.group === 'kubernetes') !== (group === 'kubernetes')) continue;
    const def = defaultOf(n);
    out.push(`| \`--${n}\` | \`${envName(n, f)}\` | ${def === undefined ? '—' : def.startsWith('(') || def.includes(' ') ? def.replace(/(\$[A-Z_]+|--[a-z-]+|\.\/config|\d+(\.\d+)*:\d+)/g, '`$1`') : `\`${def}\``} | ${(f.doc ?? f.help).replace(/\|/g, '\\|')} |`);
  }
  return out.join('\n');
}
