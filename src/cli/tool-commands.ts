/** argv → options of the two commands that read no configuration: `demo-token` and `healthcheck`. */
import { badFlag } from './flag.js';
import { readFlags } from './read-flags.js';

export interface DemoTokenOptions {
  sub: string;
  scope: string;
  tenant?: string;
  ttlSec: number;
  jti?: string;
  aud: string;
}

export function parseDemoToken(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoTokenOptions {
  const { values: v } = readFlags('demo-token', argv, env);
  return {
    sub: v.sub,
    scope: v.scope,
    ...(v.tenant !== undefined ? { tenant: v.tenant } : {}),
    ttlSec: Math.round(v.ttl / 1000),
    ...(v.jti !== undefined ? { jti: v.jti } : {}),
    aud: v.aud,
  };
}

export interface HealthcheckOptions {
  addr: string;
  service: string;
  timeoutMs: number;
  /** TLS to a listener with --grpc-tls-*: the CA to trust, and a client certificate for mTLS */
  tls?: { ca: string; cert?: string; key?: string };
}

export function parseHealthcheck(argv: string[], env: NodeJS.ProcessEnv = process.env): HealthcheckOptions {
  const { values: v } = readFlags('healthcheck', argv, env);
  const [ca, cert, key] = [v['tls-ca'], v['tls-cert'], v['tls-key']];
  if ((cert === undefined) !== (key === undefined)) badFlag('--tls-cert and --tls-key go together');
  if (cert !== undefined && ca === undefined) badFlag('--tls-cert needs --tls-ca');
  return { addr: v.addr, service: v.service, timeoutMs: v.timeout, ...(ca !== undefined ? { tls: { ca, ...(cert !== undefined ? { cert, key: key! } : {}) } } : {}) };
}
