/**
 * Payload hygiene (TrustedIssuer `payload`, docs/token-formats.md): forbidden claim names and
 * card numbers anywhere in a verified token's claims. Findings carry the claim's path, never
 * its value: they go to logs and metrics.
 */
import type { CompiledPayloadRules } from '../compile/snapshot.js';
import type { Finding } from '../decision.js';


export type PayloadVerdict =
  | { ok: true; findings?: readonly Finding[] }
  | { ok: false; reason: 'forbidden_claim' | 'sensitive_claim'; findings: readonly Finding[] };

const OK: PayloadVerdict = Object.freeze({ ok: true });
/** reported per token: a payload full of card numbers is one log line, not hundreds */
const MAX_FINDINGS = 8;

/** The decoded size of canonical unpadded base64url (parse-compact.ts checked it is canonical). */
export function decodedBytes(base64urlLength: number): number {
  return Math.floor((base64urlLength * 3) / 4);
}

export function scanPayload(claims: Record<string, unknown>, rules: CompiledPayloadRules): PayloadVerdict {
  const findings: Finding[] = [];
  const pan = rules.detectPan;
  // iterative: the payload is attacker-shaped JSON and may nest thousands of levels deep
  const stack: [unknown, string][] = [[claims, '']];
  while (stack.length > 0 && findings.length < MAX_FINDINGS) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (pan && containsCardNumber(value)) findings.push({ kind: 'pan', path });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}/${i}`]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [name, member] of Object.entries(value)) {
        const p = `${path}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (rules.forbidden.has(name)) findings.push({ kind: 'forbidden', path: p });
        stack.push([member, p]);
      }
    }
  }
  if (findings.length === 0) return OK;
  if (findings.some((f) => f.kind === 'forbidden')) return { ok: false, reason: 'forbidden_claim', findings };
  return rules.action === 'deny' ? { ok: false, reason: 'sensitive_claim', findings } : { ok: true, findings };
}

/**
 * 13 to 19 digits, single spaces or dashes allowed between them, not inside a longer run of
 * digits; the first digit 2-6 (ISO/IEC 7812 major industry identifiers of banking and
 * finance); the Luhn check (ISO/IEC 7812-1 Annex B).
 */
const CANDIDATE = /(?<![\d])[2-6](?:[ -]?\d){12,18}(?![\d])/g;
const DIGITS_ONLY = /[ -]/g;

export function containsCardNumber(s: string): boolean {
  if (s.length < 13) return false;
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(s); m !== null; m = CANDIDATE.exec(s)) {
    if (luhnValid(m[0].replace(DIGITS_ONLY, ''))) return true;
  }
  return false;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
