/** Runs the HTTP/1.1 load driver (bench/http1-load.ts) against one server, pinned like ghz, and reads its report. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST } from './fixtures.js';
import { TOKEN_MARK, type Http1Run } from './http1-load.js';
import { pinned } from './pin.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DRIVER = fileURLToPath(new URL('./http1-load.ts', import.meta.url));

export interface Http1Files {
  template: string;
  tokens: string;
}

/**
 * What Traefik's forwardAuth sends for `GET https://api.bench.example<path>`: the
 * X-Forwarded-* description of the original request, and the original request's own
 * headers (the same ones the gRPC rows' CheckRequest carries).
 */
export function forwardAuthRequest(path: string): string {
  return [
    'GET /forward-auth HTTP/1.1',
    'Host: claimcheck.bench:9292',
    'X-Forwarded-Method: GET',
    'X-Forwarded-Proto: https',
    `X-Forwarded-Host: ${HOST}`,
    `X-Forwarded-Uri: ${path}`,
    'X-Forwarded-For: 10.0.0.7',
    `Authorization: Bearer ${TOKEN_MARK}`,
    'User-Agent: bench/1.0',
    'Accept: application/json',
    'X-Request-Id: b1d6e2a4-7f55-4c3a-9a39-3f1c2f8e0c11',
    '',
    '',
  ].join('\r\n');
}

export function writeHttpRequests(dir: string, name: string, tokens: readonly string[], path: string): Http1Files {
  const files = { template: join(dir, `${name}.http`), tokens: join(dir, `${name}.tokens`) };
  writeFileSync(files.template, forwardAuthRequest(path), 'latin1');
  writeFileSync(files.tokens, tokens.join('\n') + '\n');
  return files;
}

export async function runHttp1(target: string, files: Http1Files, connections: number, how: { durationSec: number } | { total: number }, rate?: number): Promise<Http1Run> {
  const args = [
    '--import', 'tsx', DRIVER,
    '--target', target,
    '--template', files.template,
    '--tokens', files.tokens,
    '--connections', String(connections),
    ...('durationSec' in how ? ['--duration', String(how.durationSec)] : ['--total', String(how.total)]),
    ...(rate ? ['--rate', String(rate)] : []),
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const [cmd, argv] = pinned('client', process.execPath, args);
    execFile(cmd, argv, { cwd: REPO, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err || !stdout.trim().startsWith('{')) reject(new Error(`http1-load failed: ${err?.message ?? ''} ${stderr.slice(0, 500)}`));
      else resolve(stdout);
    });
  });
  return JSON.parse(out) as Http1Run;
}
