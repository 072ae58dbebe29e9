/** Where a listener (gRPC, HTTP authorization) binds: HOST:PORT, [IPv6]:PORT, :PORT or a unix socket. */
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { ClaimcheckError } from './errors.js';
import { splitHostPort } from './host-port.js';

/** HOST:PORT, [IPv6]:PORT or :PORT (every interface). */
export function parseHostPort(addr: string): { host: string; port: number } {
  const parsed = splitHostPort(addr);
  if (!parsed) throw new ClaimcheckError('listen_failed', `cannot listen on ${addr}: expected HOST:PORT, [IPv6]:PORT or unix:/path`);
  // '::' listens on IPv4 and IPv6 alike
  return { host: parsed.host || '::', port: parsed.port };
}

/** unix:/abs, unix:rel and unix:///abs, as grpc-js and Envoy write them. */
export function socketPath(addr: string): string {
  const rest = addr.slice('unix:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

export function hostOf(addr: string): string {
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(0, i);
}

/**
 * A socket file left by a killed process makes bind fail with EADDRINUSE. Remove it
 * only if it is a socket nobody answers on: never delete a regular file, and never
 * steal the socket of a live server.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new ClaimcheckError('listen_failed', `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
  if (live) throw new ClaimcheckError('listen_failed', `${path} is in use by another server`);
  await unlink(path);
}
