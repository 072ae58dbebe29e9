/**
 * The cost bound of a CEL condition (docs/cel.md "Cost limit").
 *
 * No JavaScript CEL library meters evaluation the way cel-go's cost tracker does,
 * so the bound is computed instead of counted. CEL has no loops, recursion or
 * user-visible accumulators: the only repetition is the comprehension macros
 * (`all`, `exists`, `exists_one`, `map`, `filter`), and each runs its body once per
 * element of a list or map. So at load the expression is reduced to node counts per
 * comprehension depth, and per request the bound is
 *
 *     cost = Σ_d  B^d · (plain_d + op_d·w + regex_d·w_re + linear_d·B)
 *
 * where B bounds the length of any list or map the evaluation can see (the largest
 * collection in the inputs the expression reads, plus the elements of its literals,
 * doubled for every possible list concatenation) and w / w_re grow with the longest
 * input string it reads (native string work; RE2 via re2js, which runs in
 * JavaScript: a fixed cost per call plus about one unit per character). `linear`
 * counts scans of a list of unknown length (`x in list`, `join`). Deep equality of
 * two claim values counts as one operation: its work is bounded by the token size.
 *
 * The result is an upper bound, not an exact count: the evaluation is refused before
 * it starts when the bound exceeds CEL_COST_LIMIT. One unit is roughly one AST node
 * evaluation (≈ 0.1–0.3 µs measured), so the limit is a few milliseconds of CPU.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { MATCHES_RE2 } from './regex.js';

export const CEL_COST_LIMIT = 50_000;
const NATIVE_CHARS_PER_UNIT = 128;
// re2js: a few µs per call, and up to ~0.2 µs per character scanned (measured)
const REGEX_CALL_UNITS = 20;
const REGEX_CHARS_PER_UNIT = 1;
// 2^30 is already far beyond any limit; it keeps the arithmetic finite.
const MAX_DOUBLINGS = 30;

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const STRING_TO_COLLECTION = new Set(['split', 'json']);
const SCALAR_TYPES = new Set(['string', 'int', 'uint', 'double', 'bool', 'bytes', 'null', 'type', 'google.protobuf.Timestamp', 'google.protobuf.Duration']);
const PEERS = new Set(['source', 'destination']);

interface DepthCounts {
  plain: number;
  op: number;
  regex: number;
  linear: number;
}

/** Which inputs an expression can read; only those are measured per request. */
export interface Reads {
  claims: boolean;
  /** `request` used as a whole, not only through its fields */
  wholeRequest: boolean;
  fields: Set<'method' | 'host' | 'path' | 'time'>;
  headersMap: boolean;
  queryMap: boolean;
  headerKeys: Set<string>;
  queryKeys: Set<string>;
  peers: boolean;
}

export interface CostModel {
  readonly depths: readonly DepthCounts[];
  readonly literalEntries: number;
  readonly literalChars: number;
  /** `+` that may join lists */
  readonly listConcats: number;
  /** `+` that may join strings */
  readonly stringConcats: number;
  readonly usesJoin: boolean;
  /** split() or json(): collections as long as an input string */
  readonly fromStrings: boolean;
  readonly reads: Reads;
}

export interface InputSizes {
  /** elements of the largest list or map read */
  collection: number;
  /** characters of the longest string read */
  string: number;
}

/** The library's AST node (index.d.ts ASTNode), plus the type the checker attaches. */
interface Node {
  op: string;
  args: unknown;
  checkedType?: { name?: string };
}

function typeName(n: unknown): string {
  return (n as Node).checkedType?.name ?? 'dyn';
}

function isScalar(n: unknown): boolean {
  return SCALAR_TYPES.has(typeName(n));
}

/** `request.headers['x']` → ['request', 'headers', 'x']; undefined when a step is not static. */
function staticPath(n: Node): string[] | undefined {
  if (n.op === 'id') return [n.args as string];
  if (n.op === '.' || n.op === '.?') {
    const [recv, field] = n.args as [Node, string];
    const p = staticPath(recv);
    return p && [...p, field];
  }
  if (n.op === '[]' || n.op === '[?]') {
    const [recv, key] = n.args as [Node, Node];
    if (key.op !== 'value' || typeof key.args !== 'string') return undefined;
    const p = staticPath(recv);
    return p && [...p, key.args];
  }
  return undefined;
}

/** Reduce a parsed and type-checked expression to its cost model. */
export function analyseCost(root: ASTNode): CostModel {
  const depths: DepthCounts[] = [];
  const reads: Reads = { claims: false, wholeRequest: false, fields: new Set(), headersMap: false, queryMap: false, headerKeys: new Set(), queryKeys: new Set(), peers: false };
  const m = { literalEntries: 0, literalChars: 0, listConcats: 0, stringConcats: 0, usesJoin: false, fromStrings: false };
  const at = (d: number): DepthCounts => (depths[d] ??= { plain: 0, op: 0, regex: 0, linear: 0 });

  const recordPath = (p: string[]): boolean => {
    const [root, field, key] = p;
    if (root === 'claims') {
      reads.claims = true;
      return false; // keep walking: a claim path has no other reads, but counting its nodes is the same
    }
    if (PEERS.has(root!)) {
      reads.peers = true;
      return true;
    }
    if (root !== 'request') return false;
    if (field === undefined) reads.wholeRequest = true;
    else if (field === 'headers' || field === 'query') {
      if (key === undefined) reads[field === 'headers' ? 'headersMap' : 'queryMap'] = true;
      else (field === 'headers' ? reads.headerKeys : reads.queryKeys).add(key);
    } else if (field === 'method' || field === 'host' || field === 'path' || field === 'time') reads.fields.add(field);
    else reads.wholeRequest = true;
    return true;
  };

  const countPath = (n: Node, d: number): void => {
    at(d).plain++;
    if (n.op === '.' || n.op === '.?') countPath((n.args as [Node])[0], d);
    else if (n.op === '[]' || n.op === '[?]') {
      countPath((n.args as [Node])[0], d);
      at(d).plain++;
    }
  };

  const visit = (n: Node, d: number): void => {
    const path = staticPath(n);
    if (path && recordPath(path)) return countPath(n, d);
    switch (n.op) {
      case 'value':
        at(d).plain++;
        if (typeof n.args === 'string') m.literalChars += n.args.length;
        return;
      case 'id':
        at(d).plain++;
        if (n.args === 'claims') reads.claims = true;
        return;
      case 'list':
        at(d).plain++;
        m.literalEntries += (n.args as Node[]).length;
        for (const a of n.args as Node[]) visit(a, d);
        return;
      case 'map':
        at(d).plain++;
        m.literalEntries += (n.args as [Node, Node][]).length;
        for (const [k, v] of n.args as [Node, Node][]) {
          visit(k, d);
          visit(v, d);
        }
        return;
      case 'call':
      case 'rcall': {
        const name = (n.args as [string])[0];
        const recv = n.op === 'rcall' ? (n.args as [string, Node])[1] : undefined;
        const args = (n.op === 'rcall' ? (n.args as [string, Node, Node[]])[2] : (n.args as [string, Node[]])[1]) ?? [];
        if (recv && MACROS.has(name) && args.length >= 2) {
          at(d).plain++;
          visit(recv, d);
          // args[0] is the iteration variable; the rest runs once per element
          for (const a of args.slice(1)) visit(a, d + 1);
          return;
        }
        if (name === 'matches' || name === MATCHES_RE2) at(d).regex++;
        else if (name === 'join') {
          at(d).linear++;
          m.usesJoin = true;
        } else at(d).op++;
        if (STRING_TO_COLLECTION.has(name)) m.fromStrings = true;
        if (recv) visit(recv, d);
        for (const a of args) visit(a, d);
        return;
      }
      case '.':
      case '.?':
        at(d).plain++;
        visit((n.args as [Node])[0], d);
        return;
      default:
        break;
    }
    if (Array.isArray(n.args) && n.args.length === 2 && n.op !== '||' && n.op !== '&&' && n.op !== '[]' && n.op !== '[?]') {
      const [l, r] = n.args as [Node, Node];
      // `x in list` scans the list: a literal's length is known, anything else is up to B
      if (n.op === 'in' && r.op === 'list') at(d).plain += (r.args as Node[]).length;
      else if (n.op === 'in' && !typeName(r).startsWith('map<')) at(d).linear++;
      at(d).op++;
      if (n.op === '+' && !isScalar(n)) m.listConcats++;
      if (n.op === '+' && (typeName(n) === 'string' || typeName(n) === 'dyn')) m.stringConcats++;
      visit(l, d);
      visit(r, d);
      return;
    }
    at(d).plain++;
    const children = Array.isArray(n.args) ? (n.args as Node[]) : [n.args as Node];
    for (const c of children) if (c && typeof c === 'object' && 'op' in c) visit(c, d);
  };

  visit(root as unknown as Node, 0);
  return Object.freeze({ depths: depths.map((c) => c ?? { plain: 0, op: 0, regex: 0, linear: 0 }), reads, ...m });
}

/** The upper bound on cost units for inputs of these sizes. */
export function estimateCost(model: CostModel, sizes: InputSizes): number {
  const pow2 = (k: number) => 2 ** Math.min(k, MAX_DOUBLINGS);
  let str = (sizes.string + model.literalChars) * pow2(model.stringConcats);
  const longest = (s: number) => Math.max(sizes.collection, model.fromStrings ? s : 0) + model.literalEntries;
  let b = longest(str) * pow2(model.listConcats);
  if (model.usesJoin) {
    // join() builds a string of up to B elements
    str *= Math.max(b, 1);
    b = longest(str) * pow2(model.listConcats);
  }
  const w = 1 + Math.floor(str / NATIVE_CHARS_PER_UNIT);
  const wRegex = REGEX_CALL_UNITS + Math.ceil(str / REGEX_CHARS_PER_UNIT);
  let cost = 0;
  let scale = 1;
  for (const c of model.depths) {
    cost += scale * (c.plain + c.op * w + c.regex * wRegex + (c.linear > 0 ? c.linear * Math.max(b, 1) : 0));
    scale *= b;
  }
  // an overflow is over any limit (and NaN must never compare as under it)
  return Number.isFinite(cost) ? Math.ceil(cost) : Infinity;
}
