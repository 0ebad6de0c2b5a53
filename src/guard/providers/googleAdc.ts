// Google access tokens minted from the credentials file google-github-actions/auth leaves
// (GOOGLE_APPLICATION_CREDENTIALS): a service-account key (a signed JWT exchanged at its token_uri),
// workload identity federation ("external_account": GitHub's OIDC token exchanged at Google's STS,
// then optionally for a service account's token), or an authorized user's refresh token. Written here
// rather than bundling google-auth-library, which adds ~740 KB to dist/cli.js for these three calls.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { CredentialSpec } from './catalogue';
import { applyHeaderTemplates, type Authorizer } from './authorizer';
import { checkEndpoint, endpointError, requestJson, TokenEndpointError } from './http';
import { type MintedToken, RefreshingToken } from './refreshingToken';

type GoogleSpec = Extract<CredentialSpec, { kind: 'google-adc' }>;
type Json = Record<string, unknown>;

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const BEARER_HEADER = { headers: { authorization: 'Bearer {secret}' }, listHeaders: {} };

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

function str(json: Json, key: string, where: string): string {
  const value = json[key];
  if (typeof value !== 'string' || !value) throw new TokenEndpointError(`${where} has no ${key}`);
  return value;
}

function accessToken(res: { status: number; json: Json }, where: string, issued: number): MintedToken {
  const expiresIn = Number(res.json.expires_in ?? 3600);
  if (res.status !== 200 || typeof res.json.access_token !== 'string') throw endpointError(where, res);
  return { token: res.json.access_token, expiresAt: issued + expiresIn * 1000 };
}

async function serviceAccount(key: Json, scopes: string[], now: () => number): Promise<MintedToken> {
  const tokenUri = checkEndpoint(typeof key.token_uri === 'string' ? key.token_uri : GOOGLE_TOKEN_URL, 'token_uri');
  const issued = now();
  const iat = Math.floor(issued / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...(typeof key.private_key_id === 'string' ? { kid: key.private_key_id } : {}) }));
  const claims = base64url(JSON.stringify({ iss: str(key, 'client_email', 'the key'), scope: scopes.join(' '), aud: tokenUri.href, iat, exp: iat + 3600 }));
  const signature = crypto.createSign('RSA-SHA256').update(`${header}.${claims}`).sign(str(key, 'private_key', 'the key'));
  const assertion = `${header}.${claims}.${base64url(signature)}`;
  const res = await requestJson(tokenUri, { method: 'POST', headers: FORM_HEADERS, body: form({ grant_type: JWT_BEARER, assertion }) });
  return accessToken(res, `the token endpoint ${tokenUri.origin}`, issued);
}

async function subjectToken(source: Json): Promise<string> {
  const format = (source.format ?? { type: 'text' }) as Json;
  let raw: string;
  if (typeof source.file === 'string') raw = fs.readFileSync(source.file, 'utf8');
  else if (typeof source.url === 'string') {
    const res = await requestJson(checkEndpoint(source.url, 'credential_source.url'), { method: 'GET', headers: (source.headers ?? {}) as Record<string, string> });
    if (res.status !== 200) throw endpointError('credential_source.url', res);
    raw = JSON.stringify(res.json);
  } else throw new TokenEndpointError('credential_source needs a file or a url (executable sources are not run by the guard)');
  if (format.type !== 'json') return raw.trim();
  const value = (JSON.parse(raw) as Json)[str(format, 'subject_token_field_name', 'credential_source.format')];
  if (typeof value !== 'string') throw new TokenEndpointError('the subject token field is missing from credential_source');
  return value;
}

async function externalAccount(cred: Json, scopes: string[], now: () => number): Promise<MintedToken> {
  const issued = now();
  const sts = checkEndpoint(str(cred, 'token_url', 'the external_account file'), 'token_url');
  const impersonate = typeof cred.service_account_impersonation_url === 'string' ? cred.service_account_impersonation_url : undefined;
  const res = await requestJson(sts, {
    method: 'POST',
    headers: FORM_HEADERS,
    body: form({
      grant_type: TOKEN_EXCHANGE,
      audience: str(cred, 'audience', 'the external_account file'),
      scope: impersonate ? 'https://www.googleapis.com/auth/cloud-platform' : scopes.join(' '),
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token_type: str(cred, 'subject_token_type', 'the external_account file'),
      subject_token: await subjectToken((cred.credential_source ?? {}) as Json),
    }),
  });
  const federated = accessToken(res, `the security token service ${sts.origin}`, issued);
  if (!impersonate) return federated;
  const iam = checkEndpoint(impersonate, 'service_account_impersonation_url');
  const res2 = await requestJson(iam, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${federated.token}` },
    body: JSON.stringify({ scope: scopes, lifetime: '3600s' }),
  });
  const expires = Date.parse(String(res2.json.expireTime));
  if (res2.status !== 200 || typeof res2.json.accessToken !== 'string' || !Number.isFinite(expires)) {
    throw endpointError(`service account impersonation at ${iam.origin}`, res2);
  }
  return { token: res2.json.accessToken, expiresAt: expires };
}

async function authorizedUser(cred: Json, now: () => number): Promise<MintedToken> {
  const issued = now();
  const url = checkEndpoint(typeof cred.token_uri === 'string' ? cred.token_uri : GOOGLE_TOKEN_URL, 'token_uri');
  const res = await requestJson(url, {
    method: 'POST',
    headers: FORM_HEADERS,
    body: form({ grant_type: 'refresh_token', client_id: str(cred, 'client_id', 'the file'), client_secret: str(cred, 'client_secret', 'the file'), refresh_token: str(cred, 'refresh_token', 'the file') }),
  });
  return accessToken(res, `the token endpoint ${url.origin}`, issued);
}

function readCredentials(file: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TokenEndpointError(`cannot read the Google credentials file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'not JSON'}`);
  }
  if (!json || typeof json !== 'object') throw new TokenEndpointError(`${file} is not a Google credentials file`);
  return json as Json;
}

/** The secret parts of a credentials file, so no variable can hand them to the agent. */
function fileSecrets(cred: Json): string[] {
  const source = (cred.credential_source ?? {}) as Json;
  const headers = Object.values((source.headers ?? {}) as Record<string, unknown>);
  return [cred.private_key, cred.client_secret, cred.refresh_token, ...headers].filter((v): v is string => typeof v === 'string' && v.length >= 8);
}

export function googleAdcAuthorizer(spec: GoogleSpec, env: NodeJS.ProcessEnv, now: () => number = Date.now): Authorizer {
  const file = env[spec.env] as string;
  const cred = readCredentials(file);
  const mint = (): Promise<MintedToken> => {
    switch (cred.type) {
      case 'service_account':
        return serviceAccount(cred, spec.scopes, now);
      case 'external_account':
        return externalAccount(cred, spec.scopes, now);
      case 'authorized_user':
        return authorizedUser(cred, now);
      default:
        throw new TokenEndpointError(`${file}: credentials of type "${String(cred.type)}" are not supported`);
    }
  };
  const token = new RefreshingToken(mint, now);
  return {
    source: `${spec.env} (${String(cred.type)})`,
    secrets: fileSecrets(cred),
    prepare: async () => void (await token.get()),
    authorize: async (req) => applyHeaderTemplates(req, await token.get(), BEARER_HEADER),
  };
}
