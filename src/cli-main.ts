/** Entry point behind bin/claimcheck.js: dispatches subcommands. Returns the exit code. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClaimcheckError, formatProblem } from './errors.js';
import { BUNDLED_EXAMPLES, parseCheck, parseDemoToken, parseServe, parseValidate } from './cli.js';
import { runCheckCommand } from './commands/check-command.js';
import { parseHealthcheck, runHealthcheckCommand } from './commands/healthcheck-command.js';
import { parseTest, runTestCommand } from './commands/test-command.js';
import { validatePaths } from './model/validate-paths.js';

const HELP = `claimcheck — Envoy external authorization for JWTs

usage:
  claimcheck serve    [--config-source file] [--config-dir DIR] [--grpc-addr HOST:PORT|unix:/path.sock]
                      [--http-addr HOST:PORT] [--unmatched-host deny|allow] [--log-level LEVEL]
                      [--namespace NS] [--reserved-header-prefix P] [--max-token-bytes N] [--drain-timeout D]
                      [--workers N (default: CPUs; 1 on a unix socket)] [--token-cache-size N (0: off)]
  claimcheck check    --host H --path P [--method M] [--token JWT | --header K=V ...] [--config-dir DIR] [--policy NS/NAME] [--json]
  claimcheck validate FILE|DIR ...
  claimcheck test     FILE|DIR ... [--namespace NS]   (PolicyTest files; exit 0 all pass, 1 any fail, 2 broken)
  claimcheck healthcheck [--addr HOST:PORT|unix:/path.sock] [--service NAME] [--timeout 3s]   (exit 0 when SERVING)
  claimcheck demo-token [--sub S] [--scope "a b"] [--tenant T] [--ttl 15m] [--jti ID]   (bundled DEMO key only)

Every flag also reads CLAIMCHECK_<FLAG>, e.g. CLAIMCHECK_GRPC_ADDR.
`;

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve':
        return await serveCommand(rest);
      case 'check':
        return await runCheckCommand(parseCheck(rest));
      case 'validate':
        return await validateCommand(rest);
      case 'test':
        return await runTestCommand(parseTest(rest));
      case 'healthcheck':
        return await runHealthcheckCommand(parseHealthcheck(rest));
      case 'demo-token':
        return await demoTokenCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      case undefined:
        process.stderr.write(HELP);
        return 2;
      default:
        throw new ClaimcheckError('bad_flag', `unknown command "${cmd}" (try: serve, check, validate, test, healthcheck, demo-token)`);
    }
  } catch (err) {
    if (err instanceof ClaimcheckError && err.code === 'bad_flag') {
      process.stderr.write(`claimcheck: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function serveCommand(argv: string[]): Promise<number> {
  const opts = parseServe(argv);
  if (opts.workers > 1) {
    const { default: cluster } = await import('node:cluster');
    if (cluster.isPrimary) {
      const [{ runPrimary }, { createLogger }] = await Promise.all([import('./workers.js'), import('./telemetry/logger.js')]);
      return runPrimary(opts, createLogger(opts.logLevel));
    }
  }
  const { serve } = await import('./main.js');
  const server = await serve(opts);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      process.stderr.write(`claimcheck: ${sig} received, draining\n`);
      server.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}

async function validateCommand(argv: string[]): Promise<number> {
  const { paths, namespace } = parseValidate(argv);
  const r = await validatePaths(paths, { namespace });
  for (const w of r.warnings) process.stdout.write(`warning: ${formatProblem(w)}\n`);
  for (const p of r.problems) process.stdout.write(`error: ${formatProblem(p)}\n`);
  process.stdout.write(`${r.resourceCount} resource(s), ${r.problems.length} error(s), ${r.warnings.length} warning(s)\n`);
  return r.problems.length > 0 ? 1 : 0;
}

async function demoTokenCommand(argv: string[]): Promise<number> {
  const o = parseDemoToken(argv);
  const { importJWK, SignJWT } = await import('jose');
  const jwk = JSON.parse(await readFile(join(BUNDLED_EXAMPLES, 'demo-keys', 'demo-signing-key.private.jwk.json'), 'utf8')) as Record<string, unknown>;
  const alg = typeof jwk.alg === 'string' ? jwk.alg : jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256';
  const key = await importJWK(jwk, alg);
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { scope: o.scope };
  if (o.tenant) claims.tenant = o.tenant;
  let b = new SignJWT(claims)
    .setProtectedHeader({ alg, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, typ: 'JWT' })
    .setIssuer('https://demo.claimcheck.invalid')
    .setAudience(o.aud)
    .setSubject(o.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + o.ttlSec);
  if (o.jti) b = b.setJti(o.jti);
  process.stdout.write((await b.sign(key)) + '\n');
  return 0;
}
