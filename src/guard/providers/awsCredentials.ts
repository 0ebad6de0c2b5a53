// The AWS credentials the guard signs Bedrock requests with, from the sources a workflow leaves
// (the `source` of an aws-sigv4 credential in rules/providers.yml):
//   env           AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (configure-aws-credentials)
//   web-identity  AWS_ROLE_ARN with a web identity token: AWS_WEB_IDENTITY_TOKEN_FILE, or the GitHub OIDC
//                 token the guard fetches itself; exchanged at STS AssumeRoleWithWebIdentity and
//                 exchanged again before the temporary keys expire
//   profile       a profile (AWS_PROFILE, else default) in AWS_SHARED_CREDENTIALS_FILE/AWS_CONFIG_FILE or
//                 ~/.aws: static keys, or role_arn with web_identity_token_file
//   container     the container credentials endpoint (ECS, EKS Pod Identity, CodeBuild):
//                 AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with its authorization token
// All of it is read on the host; the jail masks the files and the agent's network cannot reach the
// endpoints. Profiles that run a program (credential_process), SSO and role chains are refused: the
// guard does not run programs for credentials, and a chain needs keys it would have to sign with first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CredentialSpec } from './catalogue';
import { headerSafe } from './authorizer';
import { identityFromFile, identitySource, type IdentitySource } from './githubOidc';
import { checkEndpoint, requestJson, requestText, TokenEndpointError } from './http';
import { RefreshingToken } from './refreshingToken';

type SigV4Spec = Extract<CredentialSpec, { kind: 'aws-sigv4' }>;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsCredentialSource {
  /** Where the keys come from, for messages (never a value). */
  describe: string;
  /** Values the agent must never see that are known before the first request. */
  secrets: string[];
  /** Keys valid now (temporary ones are renewed before they expire). */
  get(): Promise<AwsCredentials>;
}

/** The hosts AWS SDKs accept plain http to for the container endpoint (besides loopback). */
export const CONTAINER_ENDPOINT_HOSTS = ['169.254.170.2', '169.254.170.23', '[fd00:ec2::23]'];
const ECS_ENDPOINT = 'http://169.254.170.2';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function fixed(creds: AwsCredentials, describe: string): AwsCredentialSource {
  return { describe, secrets: [creds.secretAccessKey, ...(creds.sessionToken ? [creds.sessionToken] : [])], get: async () => creds };
}

function checkedKeys(accessKeyId: string, secretAccessKey: string, sessionToken: string | undefined, where: string): AwsCredentials {
  if (!accessKeyId || !secretAccessKey) throw new TokenEndpointError(`${where} has no access key id or no secret access key`);
  return {
    accessKeyId: headerSafe(`${where}'s access key id`, accessKeyId),
    secretAccessKey,
    sessionToken: sessionToken ? headerSafe(`${where}'s session token`, sessionToken) : undefined,
  };
}

function fromEnvironment(env: NodeJS.ProcessEnv): AwsCredentialSource {
  if (!env.AWS_SECRET_ACCESS_KEY) throw new TokenEndpointError('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not');
  const creds = checkedKeys(env.AWS_ACCESS_KEY_ID ?? '', env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN, 'the environment');
  return fixed(creds, `AWS_ACCESS_KEY_ID${creds.sessionToken ? ', AWS_SESSION_TOKEN' : ''}`);
}

/** One field of an AWS query-protocol XML answer, with the five XML entities decoded. */
function xmlField(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return m?.[1].replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => entities[e]).trim();
}

/** STS AssumeRoleWithWebIdentity: an unsigned call, the web identity token is the proof. */
function webIdentity(
  roleArn: string,
  identity: IdentitySource,
  audience: string,
  env: NodeJS.ProcessEnv,
  region: string,
  now: () => number,
): AwsCredentialSource {
  if (!ROLE_ARN.test(roleArn)) throw new TokenEndpointError(`the role "${roleArn.slice(0, 100)}" is not an IAM role ARN`);
  const sessionName = env.AWS_ROLE_SESSION_NAME?.trim() || 'agent-guard';
  if (!SESSION_NAME.test(sessionName)) throw new TokenEndpointError('AWS_ROLE_SESSION_NAME must be 2-64 letters, digits or +=,.@_-');
  const sts = checkEndpoint(env.AWS_ENDPOINT_URL_STS?.trim() || `https://sts.${region}.amazonaws.com`, 'the STS endpoint');
  const keys = new RefreshingToken<AwsCredentials>(async () => {
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      DurationSeconds: '3600',
      WebIdentityToken: await identity.fetch(audience),
    });
    const res = await requestText(sts, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/xml' }, body: form.toString() });
    const expiration = Date.parse(xmlField(res.text, 'Expiration') ?? '');
    if (res.status !== 200 || !Number.isFinite(expiration)) {
      const detail = [xmlField(res.text, 'Code'), xmlField(res.text, 'Message')].filter(Boolean).join(': ').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
      throw new TokenEndpointError(`STS AssumeRoleWithWebIdentity at ${sts.origin} answered ${res.status}${detail ? ` (${detail})` : ''}`);
    }
    const creds = checkedKeys(xmlField(res.text, 'AccessKeyId') ?? '', xmlField(res.text, 'SecretAccessKey') ?? '', xmlField(res.text, 'SessionToken'), 'STS\'s answer');
    return { token: creds, expiresAt: expiration };
  }, now);
  return { describe: `${roleArn} assumed at ${sts.origin} with the OIDC token from ${identity.describe}`, secrets: [], get: () => keys.get() };
}

function fromWebIdentity(spec: SigV4Spec, env: NodeJS.ProcessEnv, region: string, now: () => number): AwsCredentialSource {
  const identity = identitySource(env, spec.identityFileEnv, true);
  if (!identity) {
    const file = spec.identityFileEnv ? `${spec.identityFileEnv}, or ` : '';
    throw new TokenEndpointError(`${spec.env} is set but there is no web identity token: set ${file}give the job \`permissions: id-token: write\``);
  }
  return webIdentity(env[spec.env]?.trim() ?? '', identity, spec.audienceDefault ?? 'sts.amazonaws.com', env, region, now);
}

/** INI sections as AWS CLI files write them; indented sub-settings (s3 = …) are skipped. */
export function parseIni(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(line) || /^\s/.test(line)) continue;
    const header = /^\[\s*([^\]]+?)\s*\]\s*$/.exec(line);
    if (header) {
      current = sections.get(header[1]) ?? {};
      sections.set(header[1], current);
      continue;
    }
    const pair = /^([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (pair && current) current[pair[1].toLowerCase()] = pair[2];
  }
  return sections;
}

function readIni(file: string): Map<string, Record<string, string>> {
  try {
    return parseIni(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new TokenEndpointError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

const PROGRAM_KEYS = ['credential_process', 'sso_session', 'sso_start_url', 'source_profile', 'credential_source'];

function fromProfile(env: NodeJS.ProcessEnv, region: string, now: () => number): AwsCredentialSource {
  const home = env.HOME || os.homedir();
  const name = env.AWS_PROFILE?.trim() || 'default';
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE?.trim() || path.join(home, '.aws', 'credentials');
  const configFile = env.AWS_CONFIG_FILE?.trim() || path.join(home, '.aws', 'config');
  const fromConfig = readIni(configFile).get(name === 'default' ? 'default' : `profile ${name}`) ?? {};
  const fromCredentials = readIni(credentialsFile).get(name);
  const profile = { ...fromConfig, ...fromCredentials };
  const where = `profile ${name} (${credentialsFile}, ${configFile})`;
  if (!fromCredentials && Object.keys(fromConfig).length === 0) throw new TokenEndpointError(`there is no ${where}`);
  const program = PROGRAM_KEYS.find((k) => profile[k]);
  if (program) {
    throw new TokenEndpointError(`${where} uses ${program}, which the guard does not follow (it runs no programs and chains no roles): put the keys in the step's environment (configure-aws-credentials) or use AWS_ROLE_ARN with OIDC`);
  }
  if (profile.aws_access_key_id) {
    return fixed(checkedKeys(profile.aws_access_key_id, profile.aws_secret_access_key ?? '', profile.aws_session_token, where), where);
  }
  if (profile.role_arn && profile.web_identity_token_file) {
    const identity = identityFromFile(profile.web_identity_token_file, `web_identity_token_file of ${where}`);
    return webIdentity(profile.role_arn, identity, 'sts.amazonaws.com', { ...env, AWS_ROLE_SESSION_NAME: profile.role_session_name ?? env.AWS_ROLE_SESSION_NAME }, region, now);
  }
  throw new TokenEndpointError(`${where} has neither keys nor role_arn with web_identity_token_file`);
}

function fromContainer(env: NodeJS.ProcessEnv, now: () => number): AwsCredentialSource {
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.trim();
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI?.trim();
  const endpoint = full
    ? checkEndpoint(full, 'AWS_CONTAINER_CREDENTIALS_FULL_URI', CONTAINER_ENDPOINT_HOSTS)
    : checkEndpoint(`${ECS_ENDPOINT}${relative?.startsWith('/') ? relative : `/${relative ?? ''}`}`, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', CONTAINER_ENDPOINT_HOSTS);
  const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE?.trim();
  const staticToken = env.AWS_CONTAINER_AUTHORIZATION_TOKEN?.trim();
  // The file is read at every refresh: EKS Pod Identity rotates it.
  const authorization = () => {
    if (!tokenFile) return staticToken;
    try {
      return fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new TokenEndpointError(`cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  };
  const keys = new RefreshingToken<AwsCredentials>(async () => {
    const token = authorization();
    const res = await requestJson(endpoint, { method: 'GET', headers: token ? { authorization: headerSafe('the container authorization token', token) } : {} });
    const expiresAt = Date.parse(String(res.json.Expiration));
    if (res.status !== 200 || !Number.isFinite(expiresAt)) {
      const detail = [res.json.code, res.json.message].filter((v) => typeof v === 'string').join(': ').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
      throw new TokenEndpointError(`the container credentials endpoint ${endpoint.origin} answered ${res.status}${detail ? ` (${detail})` : ''}`);
    }
    const str = (key: string) => (typeof res.json[key] === 'string' ? (res.json[key] as string) : '');
    return { token: checkedKeys(str('AccessKeyId'), str('SecretAccessKey'), str('Token') || undefined, 'the container endpoint\'s answer'), expiresAt };
  }, now);
  return {
    describe: `the container credentials endpoint ${endpoint.origin}`,
    secrets: staticToken ? [staticToken] : [],
    get: () => keys.get(),
  };
}

export function awsCredentialSource(spec: SigV4Spec, env: NodeJS.ProcessEnv, region: string, now: () => number = Date.now): AwsCredentialSource {
  switch (spec.source) {
    case 'env':
      return fromEnvironment(env);
    case 'web-identity':
      return fromWebIdentity(spec, env, region, now);
    case 'profile':
      return fromProfile(env, region, now);
    case 'container':
      return fromContainer(env, now);
  }
}
