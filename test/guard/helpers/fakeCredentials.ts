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
  return serveText((call) => {
    const [status, json] = handle(call);
    return [status, 'application/json', JSON.stringify(json)];
  }, seen);
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

/** A loopback server that answers [status, content type, text]: for services that do not speak JSON (STS). */
export function serveText(handle: (call: SeenCall) => [number, string, string], seen: SeenCall[] = []): Promise<Served & { seen: SeenCall[] }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(call);
      const [status, type, text] = handle(call);
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    }),
  );
}

export interface FakeEntra extends Served {
  seen: SeenCall[];
  /** Access tokens minted, in order. */
  minted: string[];
}

/**
 * Microsoft Entra ID's v2 token endpoint for a client credential with a federated assertion, as
 * azure/login's OIDC flow uses it: POST /{tenant}/oauth2/v2.0/token, a form with client_id, scope,
 * grant_type=client_credentials and the OIDC token as client_assertion. `assertionValid` says whether
 * the federated credential matches the token (issuer, subject, audience).
 */
export async function fakeEntra(opts: { tenant: string; clientId: string; assertionValid: (jwt: string) => boolean; expiresIn?: number }): Promise<FakeEntra> {
  const minted: string[] = [];
  const served = await serveJson((call) => {
    const form = new URLSearchParams(call.body);
    if (call.method !== 'POST' || call.url !== `/${opts.tenant}/oauth2/v2.0/token`) return [400, { error: 'invalid_request', error_description: 'AADSTS900561: The endpoint only accepts POST requests.' }];
    if (call.headers['content-type'] !== 'application/x-www-form-urlencoded') return [400, { error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain the following parameter: grant_type.' }];
    if (form.get('grant_type') !== 'client_credentials') return [400, { error: 'unsupported_grant_type' }];
    if (form.get('client_id') !== opts.clientId) return [400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.` }];
    if (form.get('scope') !== 'https://cognitiveservices.azure.com/.default') return [400, { error: 'invalid_scope' }];
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !opts.assertionValid(form.get('client_assertion') ?? '')) {
      return [400, { error: 'invalid_client', error_description: 'AADSTS700213: No matching federated identity record found for presented assertion subject.' }];
    }
    minted.push(`eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-${crypto.randomUUID()}.sig`);
    const expiresIn = opts.expiresIn ?? 3599;
    return [200, { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: minted.at(-1) }];
  });
  return { ...served, minted };
}

export interface FakeSts extends Served {
  seen: SeenCall[];
  /** Temporary credentials handed out, in order. */
  issued: Required<AwsCreds>[];
}

/**
 * AWS STS AssumeRoleWithWebIdentity (query protocol, XML answers): checks the action, version, role and
 * session name, and that `tokenValid` accepts the web identity token; hands out fresh temporary keys
 * valid for `lifetimeSeconds`.
 */
export async function fakeSts(opts: { roleArn: string; tokenValid: (jwt: string) => boolean; lifetimeSeconds?: number }): Promise<FakeSts> {
  const issued: Required<AwsCreds>[] = [];
  const error = (code: string, message: string): [number, string, string] => [
    400, 'text/xml',
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
  ];
  const served = await serveText((call) => {
    const form = new URLSearchParams(call.body);
    if (call.method !== 'POST' || form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') return error('InvalidAction', 'Could not find operation');
    if (form.get('RoleArn') !== opts.roleArn) return error('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    if (!/^[\w+=,.@-]{2,64}$/.test(form.get('RoleSessionName') ?? '')) return error('ValidationError', 'roleSessionName failed to satisfy constraint');
    if (!opts.tokenValid(form.get('WebIdentityToken') ?? '')) return error('InvalidIdentityToken', 'Incorrect token audience');
    const creds = {
      accessKeyId: `ASIA${crypto.randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: `sts/${crypto.randomBytes(20).toString('base64')}`,
      sessionToken: `FwoGZXIvYXdzE${crypto.randomBytes(40).toString('base64')}`,
    };
    issued.push(creds);
    const expiration = new Date(Date.now() + (opts.lifetimeSeconds ?? 3600) * 1000).toISOString();
    return [200, 'text/xml', [
      '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>',
      `<SubjectFromWebIdentityToken>repo:o/r:ref:refs/heads/main</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>${opts.roleArn}/${form.get('RoleSessionName')}</Arn></AssumedRoleUser>`,
      `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey><SessionToken>${creds.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>`,
      '</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>',
    ].join('')];
  });
  return { ...served, issued };
}
