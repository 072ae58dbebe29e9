/**
 * What the payload scan found (authn/scan-payload.ts), counted and logged: the claim's path
 * and the issuer, never the value. Rate-limited: a client replaying tokens full of card
 * numbers must not flood the log; the metric counts every one.
 */
import { findingLabel, type Finding } from '../decision.js';
import { LogLimiter } from './log-limiter.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export function payloadFindingsReporter(metrics: Metrics, logger: Logger): (issuer: string, findings: readonly Finding[], denied: boolean) => void {
  const limiter = new LogLimiter(logger);
  return (issuer, findings, denied) => {
    for (const kind of new Set(findings.map((f) => f.kind))) metrics.sensitiveClaims.inc({ issuer, kind });
    const forbidden = findings.some((f) => f.kind === 'forbidden');
    limiter.warn(
      'sensitive_claim',
      { issuer, claims: findings.map(findingLabel), action: denied ? 'deny' : 'audit' },
      forbidden ? 'token carries a forbidden claim' : denied ? 'token carries sensitive data; denied' : 'token carries sensitive data; allowed (payload.detectAction: audit)',
    );
  };
}
