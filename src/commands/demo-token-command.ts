/** `claimcheck demo-token`: a token signed with the bundled, published demo key (examples/ only). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_EXAMPLES, parseDemoToken } from '../cli.js';

export async function runDemoTokenCommand(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const o = parseDemoToken(argv);
  const { importJWK, SignJWT } = await import('jose');
  const jwk = JSON.parse(await readFile(join(BUNDLED_EXAMPLES, 'demo-keys', 'demo-signing-key.private.jwk.json'), 'utf8')) as Record<string, unknown>;
  const alg = typeof jwk.alg === 'string' ? jwk.alg : jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256';
  const key = await importJWK(jwk, alg);
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { scope: o.scope };
  if (o.tenant) claims.tenant = o.tenant;
  let b = new SignJWT(claims)
    .setProtectedHeader({ alg, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}), typ: 'JWT' })
    .setIssuer('https://demo.claimcheck.invalid')
    .setAudience(o.aud)
    .setSubject(o.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + o.ttlSec);
  if (o.jti) b = b.setJti(o.jti);
  out((await b.sign(key)) + '\n');
  return 0;
}
