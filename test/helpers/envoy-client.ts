/**
 * Test clients that speak to claimcheck the way Envoy does: the Authorization client is
 * built from Envoy's UPSTREAM protos (shipped by @grpc/grpc-js-xds), not from proto/.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, loadProtos } from '../oracle/load-protos.js';

const DEPS = fileURLToPath(new URL('../../node_modules/@grpc/grpc-js-xds/deps/', import.meta.url));

export const UPSTREAM_INCLUDE_DIRS = ['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate'].map((d) => DEPS + d);

let upstream: protoLoader.PackageDefinition | undefined;

/** Envoy's own external_auth.proto and everything it imports. */
export function loadUpstreamProtos(): protoLoader.PackageDefinition {
  upstream ??= protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...LOADER_OPTIONS,
    includeDirs: UPSTREAM_INCLUDE_DIRS,
  });
  return upstream;
}

export interface CheckInput {
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** sends header_map (raw_value bytes, one entry per occurrence) instead of headers */
  headerMap?: [string, string][];
  contextExtensions?: Record<string, string>;
  requestId?: string;
  sourcePrincipal?: string;
  /** attributes.source.certificate as Envoy sends it with include_peer_certificate: URL-encoded PEM */
  sourceCertificate?: string;
}

export interface CheckOutcome {
  /** status.code (0 when status is unset, as Envoy reads it) */
  code: number;
  httpStatus?: number;
  /** denied_response or ok_response headers, lowercase names */
  headers: Record<string, string>;
  rawHeaders: any[];
  headersToRemove: string[];
  body?: string;
  dynamicMetadata?: any;
  raw: any;
}

/** A CheckRequest shaped like Envoy's (pseudo-headers included in the headers map). */
export function buildCheckRequest(input: CheckInput): any {
  const host = input.host ?? 'api.example.com';
  const path = input.path ?? '/';
  const method = input.method ?? 'GET';
  const pseudo: [string, string][] = [
    [':authority', host],
    [':path', path],
    [':method', method],
    [':scheme', 'https'],
  ];
  const extra = input.requestId !== undefined ? ([['x-request-id', input.requestId]] as [string, string][]) : [];
  const http: any = { id: '1234567890', method, path, host, scheme: 'https', protocol: 'HTTP/1.1', size: 0 };
  if (input.headerMap) {
    http.header_map = {
      headers: [...pseudo, ...extra, ...input.headerMap].map(([key, value]) => ({ key, raw_value: Buffer.from(value, 'utf8') })),
    };
  } else {
    http.headers = Object.fromEntries([...pseudo, ...extra, ...Object.entries(input.headers ?? {})]);
  }
  return {
    attributes: {
      source: {
        address: { socket_address: { address: '10.1.2.3', port_value: 40000 } },
        principal: input.sourcePrincipal ?? '',
        ...(input.sourceCertificate !== undefined ? { certificate: input.sourceCertificate } : {}),
      },
      destination: {
        address: { socket_address: { address: '10.4.5.6', port_value: 8080 } },
        principal: 'spiffe://cluster.local/ns/payments/sa/payments',
      },
      request: { http },
      context_extensions: input.contextExtensions ?? {},
    },
  };
}

function httpStatusNumber(code: unknown): number | undefined {
  if (typeof code === 'number') return code;
  if (typeof code !== 'string') return undefined;
  const def = loadUpstreamProtos()['envoy.type.v3.StatusCode'] as any;
  return def?.type?.value?.find((v: any) => v.name === code)?.number;
}

function headerValue(h: any): string {
  const raw = h?.header?.raw_value;
  return raw && raw.length > 0 ? Buffer.from(raw).toString('utf8') : (h?.header?.value ?? '');
}

/** A google.protobuf.Struct as proto-loader decodes it (camelCase Value members) -> plain JSON. */
export function fromStruct(struct: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = (struct as { fields?: Record<string, unknown> } | undefined)?.fields ?? {};
  for (const [key, value] of Object.entries(fields)) out[key] = fromValue(value);
  return out;
}

function fromValue(value: unknown): unknown {
  const v = (value ?? {}) as Record<string, unknown>;
  if ('stringValue' in v) return v.stringValue;
  if ('numberValue' in v) return v.numberValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return fromStruct(v.structValue);
  if ('listValue' in v) return (((v.listValue as { values?: unknown[] }) ?? {}).values ?? []).map(fromValue);
  return null;
}

/** Every value of one response header, in order (`headers` keeps only the last). */
export function headerValues(r: CheckOutcome, name: string): string[] {
  return r.rawHeaders.filter((h) => String(h?.header?.key).toLowerCase() === name).map(headerValue);
}

/** Reads a decoded CheckResponse the way Envoy's ext_authz filter does. */
export function toOutcome(raw: any): CheckOutcome {
  const denied = raw?.denied_response;
  const ok = raw?.ok_response;
  const rawHeaders: any[] = (denied ?? ok)?.headers ?? [];
  const headers: Record<string, string> = {};
  for (const h of rawHeaders) headers[String(h?.header?.key ?? '').toLowerCase()] = headerValue(h);
  return {
    code: raw?.status?.code ?? 0,
    httpStatus: denied ? (httpStatusNumber(denied.status?.code) ?? 403) : undefined,
    headers,
    rawHeaders,
    headersToRemove: ok?.headers_to_remove ?? [],
    body: denied ? (denied.body ?? '') : undefined,
    dynamicMetadata: raw?.dynamic_metadata ? fromStruct(raw.dynamic_metadata) : undefined,
    raw,
  };
}

export interface EnvoyClient {
  check(input: CheckInput): Promise<CheckOutcome>;
  /** sends an already built CheckRequest object */
  checkRaw(request: any): Promise<CheckOutcome>;
  close(): void;
}

/** `credentials`: TLS (grpc.credentials.createSsl) for a listener with --grpc-tls-*; plaintext by default. */
export function createEnvoyClient(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): EnvoyClient {
  const pkg = grpc.loadPackageDefinition(loadUpstreamProtos()) as any;
  const client: grpc.Client & Record<string, any> = new pkg.envoy.service.auth.v3.Authorization(address, credentials);
  const checkRaw = (request: any) =>
    new Promise<CheckOutcome>((resolve, reject) => {
      client.Check(request, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: any) => {
        if (err) reject(err);
        else resolve(toOutcome(res));
      });
    });
  return {
    check: (input) => checkRaw(buildCheckRequest(input)),
    checkRaw,
    close: () => client.close(),
  };
}

/** grpc.health.v1 has no copy in the upstream deps; claimcheck's health.proto is the spec's file. */
function healthClient(address: string): grpc.Client & Record<string, any> {
  const pkg = grpc.loadPackageDefinition(loadProtos().packageDefinition) as any;
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
}

/** Resolves to SERVING / NOT_SERVING; rejects with the gRPC error (NOT_FOUND for an unknown service). */
export function healthCheck(address: string, service = ''): Promise<string> {
  const client = healthClient(address);
  return new Promise<string>((resolve, reject) => {
    client.Check({ service }, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: any) => {
      client.close();
      if (err) reject(err);
      else resolve(res?.status ?? 'UNKNOWN');
    });
  });
}

export interface HealthWatch {
  /** every status received so far, in order */
  readonly statuses: string[];
  /** resolves once `status` is the latest status received; rejects after timeoutMs */
  waitFor(status: string, timeoutMs?: number): Promise<void>;
  /** resolves when the server ends the stream */
  readonly ended: Promise<void>;
  close(): void;
}

export function watchHealth(address: string, service = ''): HealthWatch {
  const client = healthClient(address);
  const call: grpc.ClientReadableStream<any> = client.Watch({ service });
  const statuses: string[] = [];
  const waiters = new Set<() => void>();
  call.on('data', (msg: any) => {
    statuses.push(msg?.status ?? 'UNKNOWN');
    for (const w of [...waiters]) w();
  });
  const ended = new Promise<void>((resolve) => {
    call.on('end', resolve);
    call.on('error', () => resolve());
  });
  return {
    statuses,
    ended,
    waitFor(status, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const test = () => {
          if (statuses.at(-1) !== status) return;
          waiters.delete(test);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(test);
          reject(new Error(`health status ${status} not seen within ${timeoutMs} ms (got ${statuses.join(',')})`));
        }, timeoutMs);
        waiters.add(test);
        test();
      });
    },
    close() {
      call.cancel();
      client.close();
    },
  };
}
