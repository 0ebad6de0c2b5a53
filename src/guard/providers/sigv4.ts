// AWS Signature Version 4 for Bedrock. A signature covers the host, path, body and time, so the
// agent's request cannot carry one: the proxy signs the exact bytes it forwards with the AWS
// credentials the guard holds (awsCredentials.ts: the environment configure-aws-credentials leaves,
// a web identity, a profile or the container endpoint). Written here rather than bundled:
// @smithy/signature-v4 pulls ~400 KB of @smithy/core into a CommonJS bundle; the tests check this
// signer against it.
import crypto from 'node:crypto';
import type { CredentialSpec } from './catalogue';
import type { Authorizer, UpstreamRequest } from './authorizer';
import { type AwsCredentials, awsCredentialSource } from './awsCredentials';

type SigV4Spec = Extract<CredentialSpec, { kind: 'aws-sigv4' }>;

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
  const creds = awsCredentialSource(spec, env, region, () => now().getTime());
  return {
    source: `AWS SigV4 for ${spec.service} in ${region} (${creds.describe})`,
    secrets: creds.secrets,
    prepare: async () => void (await creds.get()),
    authorize: async (req) => signRequest(req, await creds.get(), region, spec.service, now()),
  };
}
