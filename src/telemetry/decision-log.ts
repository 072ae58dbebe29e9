/**
 * The decision log (docs/operations.md "Decision log"): one JSON line per denial
 * and per audit-mode would-deny, and a sample of allows, at info level on a child
 * logger tagged `log: "decision"`.
 *
 * Never the token, its signature or claim values other than `sub` and `jti` (and
 * each of those can be turned off). The path is logged without its query string,
 * which is where a query-parameter token would be.
 */
import type { Logger } from './logger.js';
import { findingLabel, type Decision } from '../decision.js';
import type { AuthRequest } from '../request.js';
import { normalizeHost } from '../authz/normalize-host.js';

export interface DecisionLogOptions {
  /** false: no decision lines at all (denials are still counted in metrics) */
  enabled: boolean;
  /** fraction of allowed requests logged, 0..1 */
  allowSample: number;
  /** log the token's `sub` */
  subject: boolean;
  /** log the token's `jti` */
  tokenId: boolean;
}

export const DEFAULT_DECISION_LOG: Readonly<DecisionLogOptions> = Object.freeze({ enabled: true, allowSample: 0, subject: true, tokenId: true });

/** What the handler knows after a Check: the decision (absent when none was made) and its outcome. */
export interface DecisionOutcome {
  label: 'allow' | 'deny' | 'audit_deny';
  /** the metric reason; for audit_deny the reason the request would have been denied */
  reason: string;
  /** HTTP status of a denial */
  status?: number;
  decision?: Decision;
}

export interface DecisionLog {
  record(req: AuthRequest, outcome: DecisionOutcome): void;
  /** whether any allow may be logged: the answer cache builds the request for record() only then */
  logsAllows: boolean;
}

const MAX_PATH = 256;

function pathWithoutQuery(target: string): string {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

const MESSAGES = {
  allow: 'request allowed',
  deny: 'request denied',
  audit_deny: 'request allowed by audit mode; enforce mode would deny it',
} as const;

export function createDecisionLog(logger: Logger, opts: Readonly<DecisionLogOptions> = DEFAULT_DECISION_LOG, random: () => number = Math.random): DecisionLog {
  if (!opts.enabled) return { record: () => undefined, logsAllows: false };
  const log = logger.child({ log: 'decision' });
  return {
    logsAllows: opts.allowSample > 0,
    record(req, { label, reason, status, decision }) {
      if (label === 'allow' && !(opts.allowSample > 0 && random() < opts.allowSample)) return;
      if (!log.isLevelEnabled('info')) return;
      const claims = decision?.verified?.claims;
      const denied = decision && !decision.allow ? decision : decision?.auditedDeny;
      const line: Record<string, unknown> = { requestId: req.requestId, decision: label, reason };
      if (denied) line.error = denied.kind;
      if (status !== undefined) line.status = status;
      if (decision?.policy) line.policy = decision.policy.key;
      if (decision?.rule) line.rule = decision.rule.name;
      if (decision?.verified) line.issuer = decision.verified.issuer.key;
      const findings = decision?.verified?.findings ?? denied?.findings ?? denied?.verified?.findings;
      // where the payload carried what it must not: paths, never the values
      if (findings) line.sensitiveClaims = findings.map(findingLabel);
      if (opts.subject && typeof claims?.sub === 'string') line.sub = claims.sub;
      if (opts.tokenId && typeof claims?.jti === 'string') line.jti = claims.jti;
      line.method = req.method;
      line.host = decision?.host ?? normalizeHost(req.host);
      line.path = pathWithoutQuery(req.path);
      log.info(line, MESSAGES[label]);
    },
  };
}
