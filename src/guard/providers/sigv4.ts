// AWS Signature Version 4 for Bedrock. A signature covers the host, path, body and time, so the
// agent's request cannot carry one: the proxy signs the exact bytes it forwards with the AWS
// credentials in the guard's environment (aws-actions/configure-aws-credentials leaves them there,
// session token included). Written here rather than bundled: @smithy/signature-v4 pulls ~400 KB of
// @smithy/core into a CommonJS bundle; the tests check this signer against it.
import crypto from 'node:crypto';
import type { CredentialSpec } from './catalogue';
import { type Authorizer, headerSafe, type UpstreamRequest } from './authorizer';
import { TokenEndpointError } from './http';

type SigV4Spec = Extract<CredentialSpec, { kind: 'aws-sigv4' }>;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data).digest();

/** RFC 3986 percent-encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.[0-9]{3}/, '');
}

/** Sign `req` in place: sets x-amz-date, x-amz-security-token and authorization. */
export function signRequest(req: UpstreamRequest, creds: AwsCredentials, region: string, service: string, now: Date): void {
  const date = amzDate(now);
  req.headers['x-amz-date'] = date;
  if (creds.sessionToken) req.headers['x-amz-security-token'] = creds.sessionToken;
  const signed: Record<string, string> = { host: req.url.host };
  for (const name of ['content-type', 'x-amz-date', 'x-amz-security-token']) {
    const value = req.headers[name];
    if (value !== undefined) signed[name] = String(value).trim().replace(/\s+/g, ' ');
  }
  const names = Object.keys(signed).sort();
  // Every service but S3 signs the path encoded once more than it travels.
  const canonicalPath = escape(req.url.pathname).replace(/%2F/g, '/');
  const canonicalQuery = [...req.url.searchParams]
    .map(([k, v]) => [escape(k), escape(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [
    req.method,
    canonicalPath,
    canonicalQuery,
    names.map((n) => `${n}:${signed[n]}\n`).join(''),
    names.join(';'),
    sha256(req.body),
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${creds.secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key).update(stringToSign).digest('hex');
  req.headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
}

export function sigv4Authorizer(spec: SigV4Spec, env: NodeJS.ProcessEnv, region: string, now: () => Date = () => new Date()): Authorizer {
  const accessKeyId = headerSafe('AWS_ACCESS_KEY_ID', env.AWS_ACCESS_KEY_ID ?? '');
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? '';
  if (!secretAccessKey) throw new TokenEndpointError('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not');
  const sessionToken = env.AWS_SESSION_TOKEN ? headerSafe('AWS_SESSION_TOKEN', env.AWS_SESSION_TOKEN) : undefined;
  const creds: AwsCredentials = { accessKeyId, secretAccessKey, sessionToken };
  return {
    source: `AWS SigV4 for ${spec.service} in ${region} (AWS_ACCESS_KEY_ID${sessionToken ? ', AWS_SESSION_TOKEN' : ''})`,
    secrets: [secretAccessKey, ...(sessionToken ? [sessionToken] : [])],
    prepare: async () => undefined,
    authorize: async (req) => signRequest(req, creds, region, spec.service, now()),
  };
}
