// The few HTTP calls the guard itself makes to mint credentials (token exchanges, the Actions OIDC
// endpoint). Only https, or plain http to loopback (test doubles), so a token never travels in clear.
import http from 'node:http';
import https from 'node:https';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_RESPONSE = 1024 * 1024;
const TIMEOUT_MS = 30_000;

export class TokenEndpointError extends Error {}

export function checkEndpoint(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TokenEndpointError(`${what} "${text.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new TokenEndpointError(`${what} ${url.origin} must be https (plain http only to loopback)`);
  }
  return url;
}

export interface JsonResponse {
  status: number;
  json: Record<string, unknown>;
}

/** One request; the answer must be a JSON object. Errors never include the request's credentials. */
export function requestJson(url: URL, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<JsonResponse> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: init.method, headers: { accept: 'application/json', ...init.headers }, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE) req.destroy(new TokenEndpointError(`${url.origin} answered more than ${MAX_RESPONSE} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        if (!json || typeof json !== 'object' || Array.isArray(json)) {
          reject(new TokenEndpointError(`${url.origin}${url.pathname} answered ${res.statusCode} without a JSON object`));
          return;
        }
        resolve({ status: res.statusCode ?? 0, json: json as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new TokenEndpointError(`${url.origin} did not answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof TokenEndpointError ? err : new TokenEndpointError(`cannot reach ${url.origin}: ${err.code ?? err.message}`)));
    req.end(init.body);
  });
}

/** The endpoint's own error words (OAuth `error`/`error_description`), never a token. */
export function endpointError(where: string, res: JsonResponse): TokenEndpointError {
  const detail = [res.json.error, res.json.error_description, (res.json.error as { message?: unknown })?.message]
    .filter((v) => typeof v === 'string')
    .join(': ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 200);
  return new TokenEndpointError(`${where} answered ${res.status}${detail ? ` (${detail})` : ''}`);
}
