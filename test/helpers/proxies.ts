/**
 * The real proxies of the forward-auth tests (scripts/proxy-tools.sh installs them), each
 * started with the configuration shipped in deploy/. The shipped files name fixed loopback
 * addresses; the tests replace each one textually and fail if it is not there, so a test
 * can never run a configuration other than the shipped one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { freePort } from './free-port.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './claimcheck-process.js';

/** the versions scripts/proxy-tools.sh installs */
export const CADDY_VERSION = '2.11.7';
const CACHE = process.env.CLAIMCHECK_CACHE ?? join(homedir(), '.cache', 'claimcheck');

export type ProxyName = 'nginx' | 'caddy';

/** the addresses the shipped configurations assume; the proxy's own is `ProxyTool.listens` */
export const SHIPPED = { claimcheck: '127.0.0.1:9292', upstream: '127.0.0.1:8080' } as const;

export interface ProxyTool {
  name: ProxyName;
  bin: string;
  /** the shipped configuration, relative to the repository */
  config: string;
  /** the listen address as the shipped configuration spells it */
  listens: string;
}

export const PROXIES: readonly ProxyTool[] = [
  { name: 'nginx', bin: ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? '/usr/sbin/nginx', config: 'deploy/nginx/claimcheck.conf', listens: '127.0.0.1:8000' },
  { name: 'caddy', bin: join(CACHE, `caddy-${CADDY_VERSION}`, 'bin', 'caddy'), config: 'deploy/caddy/Caddyfile', listens: ':8000' },
];

export interface RunningProxy {
  port: number;
  child: ChildProcess;
  /** what the proxy wrote to stderr and its error log */
  log(): Promise<string>;
  stop(): Promise<void>;
}


/** The shipped file with its three addresses replaced; throws if one is missing. */
export async function shippedConfig(tool: ProxyTool, ports: { claimcheck: number; upstream: number; proxy: number }): Promise<string> {
  let text = await readFile(join(REPO, tool.config), 'utf8');
  const wanted: [string, string][] = [
    [SHIPPED.claimcheck, `127.0.0.1:${ports.claimcheck}`],
    [SHIPPED.upstream, `127.0.0.1:${ports.upstream}`],
    [tool.listens, tool.listens.replace(/\d+$/, String(ports.proxy))],
  ];
  for (const [shipped, address] of wanted) {
    if (!text.includes(shipped)) throw new Error(`${tool.config} no longer names ${shipped}`);
    text = text.replaceAll(shipped, address);
  }
  return text;
}

export async function startProxy(tool: ProxyTool, dir: string, ports: { claimcheck: number; upstream: number }): Promise<RunningProxy> {
  const port = await freePort();
  const config = await shippedConfig(tool, { ...ports, proxy: port });
  await mkdir(dir, { recursive: true });
  let args: string[];
  const errorLog = join(dir, 'error.log');
  if (tool.name === 'nginx') {
    await writeFile(join(dir, 'claimcheck.conf'), config);
    await writeFile(join(dir, 'nginx.conf'), nginxMain(dir));
    args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog];
  } else {
    await writeFile(join(dir, 'Caddyfile'), config);
    args = ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'];
  }
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const child = spawn(tool.bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const log = async () => stderr + (existsSync(errorLog) ? await readFile(errorLog, 'utf8') : '');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitForPort(port, exited, log);
  return {
    port,
    child,
    log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function nginxMain(dir: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(dir, t)};`).join('\n');
  return [
    'daemon off;',
    'worker_processes 1;',
    // as root nginx would switch its worker to nobody, who cannot reach this directory
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    '    access_log off;',
    temp,
    `    include ${join(dir, 'claimcheck.conf')};`,
    '}',
    '',
  ].join('\n');
}

async function waitForPort(port: number, exited: Promise<number | null>, log: () => Promise<string>): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`the proxy exited (${gone}) before listening:\n${await log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the proxy did not listen on ${port} within 15 s:\n${await log()}`);
}
