/**
 * TLS for one of claimcheck's listeners (--grpc-tls-*, --http-tls-*, --authz-http-tls-*):
 * the files are read again every second, and a changed pair that checks out is handed to the
 * server with setSecureContext, which new connections use while open ones keep theirs
 * (node's tls.Server). A Kubernetes Secret volume swaps its `..data` symlink atomically, so a
 * rotated Secret is served within about a second of the kubelet writing it. A pair that does
 * not check out keeps the last good one serving, once logged and counted per content.
 */
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { ClaimcheckError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { readRaw, sameRaw, toMaterial, type TlsFiles, type TlsMaterial } from './tls-material.js';

export type { TlsFiles } from './tls-material.js';
export type TlsListener = 'grpc' | 'http' | 'authz-http';

/** Where reloads are counted (telemetry's TlsMetrics). */
export interface TlsReport {
  reloaded(listener: TlsListener, notAfterMs: number): void;
  failed(listener: TlsListener): void;
}

export interface SecureServer {
  setSecureContext(options: SecureContextOptions): void;
}

export const TLS_POLL_MS = 1000;

export class ServerTls {
  private material: TlsMaterial;
  /** the last content read, good or not: a bad pair is reported once, not every poll */
  private lastRaw: TlsMaterial['raw'] | undefined;
  private lastProblem: string | undefined;
  private readonly servers = new Set<SecureServer>();
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  private readonly timer: NodeJS.Timeout;

  /** Reads and checks the files now; throws tls_files_invalid (startup has no last good pair to keep). */
  constructor(
    readonly listener: TlsListener,
    private readonly files: TlsFiles,
    private readonly deps: { logger: Logger; report?: TlsReport; pollMs?: number },
  ) {
    this.material = toMaterial(files, readRaw(files));
    this.lastRaw = this.material.raw;
    deps.report?.reloaded(listener, this.material.notAfterMs);
    this.timer = setInterval(() => this.poll(), deps.pollMs ?? TLS_POLL_MS);
    this.timer.unref();
  }

  /** Options for tls/https/http2 createSecureServer: with a client CA, a verified client certificate is required. */
  serverOptions(): TlsOptions {
    const mtls = this.files.clientCa !== undefined;
    return { ...this.material.context, requestCert: mtls, rejectUnauthorized: mtls };
  }

  get current(): TlsMaterial {
    return this.material;
  }

  get mutual(): boolean {
    return this.files.clientCa !== undefined;
  }

  /** Keep `server` on the current pair from now on. */
  attach(server: SecureServer): void {
    this.servers.add(server);
  }

  onChange(listener: (m: TlsMaterial) => void): void {
    this.listeners.add(listener);
  }

  close(): void {
    clearInterval(this.timer);
    this.servers.clear();
    this.listeners.clear();
  }

  /** One read; public so that a test (and only a test) need not wait for the timer. */
  poll(): void {
    let raw: TlsMaterial['raw'];
    try {
      raw = readRaw(this.files);
    } catch (err) {
      this.problem(err);
      return;
    }
    if (this.lastRaw && sameRaw(raw, this.lastRaw)) return;
    this.lastRaw = raw;
    let next: TlsMaterial;
    try {
      next = toMaterial(this.files, raw);
    } catch (err) {
      this.problem(err);
      return;
    }
    this.lastProblem = undefined;
    if (sameRaw(next.raw, this.material.raw)) return;
    this.material = next;
    for (const s of this.servers) s.setSecureContext(next.context);
    for (const l of this.listeners) l(next);
    this.deps.report?.reloaded(this.listener, next.notAfterMs);
    this.deps.logger.info({ listener: this.listener, fingerprint: next.fingerprint, notAfter: new Date(next.notAfterMs).toISOString() }, 'tls certificate reloaded');
  }

  private problem(err: unknown): void {
    const message = err instanceof ClaimcheckError ? err.message : 'unreadable';
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.deps.report?.failed(this.listener);
    this.deps.logger.error({ listener: this.listener, problem: message }, 'tls files not usable; the last good certificate keeps serving');
  }
}
