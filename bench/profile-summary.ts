/**
 * `node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]`
 *
 * Summarises a V8 CPU profile (`npm run bench -- --profile DIR`): self time per function
 * and per package or source directory, as shares of busy time (idle excluded).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

function area(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  if (url === '') return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 3).join('/').replace(/\.js$/, '');
  const own = /\/(dist|src)\/(.+)$/.exec(url);
  if (own) return `claimcheck ${own[2]!.replace(/\.[jt]s$/, '')}`;
  return url;
}

const funcs = new Map<string, number>();
const areas = new Map<string, number>();
let busy = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || '(anonymous)';
  const a = area(n.callFrame.url, name);
  if (name === '(idle)') continue;
  busy += us;
  const key = `${name} ${a}:${n.callFrame.lineNumber + 1}`;
  funcs.set(key, (funcs.get(key) ?? 0) + us);
  areas.set(a, (areas.get(a) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${k}\n`);
};
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s\n`);
print('self time by area', areas);
print('self time by function', funcs);
