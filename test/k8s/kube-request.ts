/** A minimal HTTPS JSON client for the test API server (bearer token, private CA). */
import { request } from 'node:https';

export interface KubeEndpoint {
  server: string;
  token: string;
  ca: string;
}

export interface KubeResponse {
  status: number;
  /** parsed JSON when the body is JSON, else the text */
  body: any;
}

export function kubeRequest(ep: KubeEndpoint, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
  const url = new URL(path, ep.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      ca: ep.ca,
      headers: {
        authorization: `Bearer ${ep.token}`,
        accept: 'application/json',
        ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
      },
      timeout: 10_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // plain text (e.g. /readyz)
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}
