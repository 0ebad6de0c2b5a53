// Test doubles for the services that mint or check credentials, each checking what it gets as the
// real one would: a GitHub Actions OIDC endpoint (JWTs with a fresh jti, single use downstream), a
// token exchange (Anthropic's federation, Google's STS and token endpoint), and an AWS SigV4 check
// computed independently with @smithy/signature-v4 and the same secret.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export interface SeenCall {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback server: `handle` answers [status, JSON] for each request, every call is recorded. */
export function serveJson(handle: (call: SeenCall) => [number, unknown], seen: SeenCall[] = []): Promise<Served & { seen: SeenCall[] }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(call);
      const [status, json] = handle(call);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    }),
  );
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function decodeJwt(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** The Actions OIDC endpoint: a JWT for the audience asked, with a fresh jti, for the right request token. */
export async function fakeActionsOidc(requestToken: string): Promise<Served & { seen: SeenCall[]; issued: string[] }> {
  const issued: string[] = [];
  const served = await serveJson((call) => {
    if (call.headers.authorization !== `Bearer ${requestToken}`) return [401, { message: 'bad request token' }];
    const audience = new URL(call.url, 'http://x').searchParams.get('audience');
    const jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'https://token.actions.githubusercontent.com', aud: audience, sub: 'repo:o/r:ref:refs/heads/main', jti: crypto.randomUUID() })}.c2ln`;
    issued.push(jwt);
    return [200, { value: jwt }];
  });
  return { ...served, url: `${served.url}/oidc?api-version=2.0`, issued };
}

export interface AwsCreds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    out[key] = values.length > 1 ? values : values[0];
  }
  return out;
}

/** Whether the request carries a valid SigV4 signature for these credentials (recomputed by Smithy). */
export async function sigV4Valid(call: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string | Buffer }, creds: AwsCreds, region: string, service: string): Promise<boolean> {
  const auth = String(call.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m || m[1] !== creds.accessKeyId || m[3] !== region || m[4] !== service) return false;
  const date = String(call.headers['x-amz-date'] ?? '');
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  if (Number.isNaN(signingDate.getTime()) || Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return false;
  const headers: Record<string, string> = {};
  for (const name of m[5].split(';')) headers[name] = String(call.headers[name] ?? '');
  const target = new URL(call.url, `http://${headers.host}`);
  const signer = new SignatureV4({ credentials: creds, region, service, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    {
      method: call.method, protocol: 'https:', hostname: target.hostname, path: call.url.split('?')[0],
      query: queryOf(target.searchParams), headers, body: call.body,
    },
    { signingDate },
  );
  return signed.headers.authorization === auth;
}

/** One AWS event-stream frame (as Bedrock streams): string headers, a JSON payload, CRC32s. */
export function eventStreamFrame(headers: Record<string, string>, payload: unknown): Buffer {
  const crc32 = (data: Buffer) => zlib.crc32(data);
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const n = Buffer.from(name);
      const v = Buffer.from(value);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(v.length);
      return Buffer.concat([Buffer.from([n.length]), n, Buffer.from([7]), len, v]);
    }),
  );
  const body = Buffer.from(JSON.stringify(payload));
  const total = 12 + headerBytes.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headerBytes.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude));
  const message = Buffer.concat([prelude, preludeCrc, headerBytes, body]);
  const messageCrc = Buffer.alloc(4);
  messageCrc.writeUInt32BE(crc32(message));
  return Buffer.concat([message, messageCrc]);
}
