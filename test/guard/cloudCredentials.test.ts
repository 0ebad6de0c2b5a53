// Azure and AWS credentials the guard mints or reads itself, against doubles that check what they get
// as the services do: Microsoft Entra ID's token endpoint taking the GitHub OIDC token as a client
// assertion (azure/login's OIDC flow) for Azure OpenAI and Claude on Foundry; AWS STS
// AssumeRoleWithWebIdentity (a token the fake Actions endpoint minted for sts.amazonaws.com, or the
// web identity token file), shared credentials profiles and the container credentials endpoint, each
// ending in a SigV4 signature @smithy/signature-v4 recomputes with the keys the fake handed out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinProviders, credentialFor, type CredentialSpec, resolveProvider, type UpstreamRequest } from '../../src/guard/providers';
import { CONTAINER_ENDPOINT_HOSTS, parseIni } from '../../src/guard/providers/awsCredentials';
import { checkEndpoint } from '../../src/guard/providers/http';
import { oidcExchangeAuthorizer } from '../../src/guard/providers/oidcExchange';
import { sigv4Authorizer } from '../../src/guard/providers/sigv4';
import { type AwsCreds, decodeJwt, fakeActionsOidc, fakeEntra, fakeSts, serveJson, sigV4Valid } from './helpers/fakeCredentials';

const providers = builtinProviders();
const specOf = <K extends CredentialSpec['kind']>(provider: string, env: string) =>
  providers.get(provider)!.credentials.find((c) => c.env === env) as Extract<CredentialSpec, { kind: K }>;
const entra = specOf<'oidc-exchange'>('azure-openai', 'AZURE_CLIENT_ID');
const bedrockSpec = (env: string) => specOf<'aws-sigv4'>('bedrock', env);

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '00000000-1111-2222-3333-444444444444';
const ROLE = 'arn:aws:iam::123456789012:role/claude-bedrock';
const BEDROCK = 'https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke';

function request(url: string): UpstreamRequest {
  return { method: 'POST', url: new URL(url), headers: { 'content-type': 'application/json' }, body: Buffer.from('{"max_tokens":8}') };
}

/** The signed request as the fake Bedrock would receive it, checked with the keys the test expects. */
async function signedWith(req: UpstreamRequest, creds: AwsCreds): Promise<boolean> {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  const call = { method: req.method, url: req.url.pathname + req.url.search, headers: { ...headers, host: req.url.host }, body: req.body };
  return (await sigV4Valid(call, creds, 'us-east-1', 'bedrock')) && req.headers['x-amz-security-token'] === creds.sessionToken;
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-cloud-'));
}

const fileJwt = (sub: string, aud: string) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub, aud })).toString('base64url')}.c2ln`;

describe('Microsoft Entra ID from GitHub OIDC (azure/login\'s flow)', () => {
  const REQUEST_TOKEN = 'actions-request-token-for-entra';

  it('sends the OIDC token the guard fetched as the client assertion, and refreshes the token before it expires', async () => {
    const oidc = await fakeActionsOidc(REQUEST_TOKEN);
    const login = await fakeEntra({
      tenant: TENANT,
      clientId: CLIENT,
      assertionValid: (jwt) => oidc.issued.includes(jwt) && decodeJwt(jwt).aud === 'api://AzureADTokenExchange',
      expiresIn: 300,
    });
    try {
      let clock = Date.now();
      const env = { AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: login.url, ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN };
      const auth = oidcExchangeAuthorizer(entra, env, new URL('https://contoso.openai.azure.com'), () => clock);
      await auth.prepare();
      const first = request('https://contoso.openai.azure.com/openai/v1/chat/completions');
      await auth.authorize(first);
      expect(first.headers.authorization).toBe(`Bearer ${login.minted[0]}`);
      clock += 200_000; // 100 s of 300 left: more than the 60 s margin
      await auth.authorize(first);
      expect(login.minted).toHaveLength(1);
      clock += 45_000; // 55 s left: due, with a fresh OIDC token
      const second = request('https://contoso.openai.azure.com/openai/v1/chat/completions');
      await auth.authorize(second);
      expect(second.headers.authorization).toBe(`Bearer ${login.minted[1]}`);
      expect(oidc.issued).toHaveLength(2);
      expect(new Set(login.seen.map((c) => new URLSearchParams(c.body).get('client_assertion'))).size).toBe(2);
      expect(JSON.stringify(second.headers)).not.toContain(REQUEST_TOKEN);
    } finally {
      await Promise.all([oidc.close(), login.close()]);
    }
  });

  it('prefers the federated token file (Kubernetes workload identity) over the Actions endpoint', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'azure-identity-token');
    fs.writeFileSync(file, fileJwt('system:serviceaccount:ci:runner', 'api://AzureADTokenExchange'));
    const oidc = await fakeActionsOidc('unused');
    const login = await fakeEntra({ tenant: TENANT, clientId: CLIENT, assertionValid: (jwt) => decodeJwt(jwt).sub === 'system:serviceaccount:ci:runner' });
    try {
      const env = { AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: login.url, AZURE_FEDERATED_TOKEN_FILE: file, ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'unused' };
      const req = request('https://r.services.ai.azure.com/anthropic/v1/messages');
      await oidcExchangeAuthorizer(specOf<'oidc-exchange'>('foundry', 'AZURE_CLIENT_ID'), env, new URL('https://r.services.ai.azure.com'), Date.now).authorize(req);
      expect(req.headers.authorization).toBe(`Bearer ${login.minted[0]}`);
      expect(oidc.issued).toHaveLength(0);
    } finally {
      await Promise.all([oidc.close(), login.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails closed with one line: no tenant, a tenant that would change the path, plain http, a refused assertion, no OIDC token', async () => {
    const base = { AZURE_CLIENT_ID: CLIENT, ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    const upstream = new URL('https://contoso.openai.azure.com');
    expect(() => oidcExchangeAuthorizer(entra, base, upstream)).toThrow(/needs its tenant: set one of AZURE_TENANT_ID/);
    expect(() => oidcExchangeAuthorizer(entra, { ...base, AZURE_TENANT_ID: 'evil.example/x?' }, upstream)).toThrow(/tenant "evil.example\/x\?" .*does not look like one/);
    expect(() => oidcExchangeAuthorizer(entra, { ...base, AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: 'http://login.example' }, upstream)).toThrow(/must be https/);
    expect(() => oidcExchangeAuthorizer(entra, { AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT }, upstream)).toThrow(/id-token: write.*AZURE_FEDERATED_TOKEN_FILE/);
    const oidc = await fakeActionsOidc('t');
    const login = await fakeEntra({ tenant: TENANT, clientId: CLIENT, assertionValid: () => false });
    try {
      const env = { AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: login.url, ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
      await expect(oidcExchangeAuthorizer(entra, env, upstream).prepare()).rejects.toThrow(/answered 400 \(invalid_client: AADSTS700213: No matching federated identity record/);
    } finally {
      await Promise.all([oidc.close(), login.close()]);
    }
  });

  it('is the kind chosen for Azure OpenAI and Claude on Foundry when no key is set; a key wins', () => {
    expect(credentialFor(providers.get('azure-openai')!, { AZURE_CLIENT_ID: CLIENT })?.kind).toBe('oidc-exchange');
    expect(credentialFor(providers.get('azure-openai')!, { AZURE_CLIENT_ID: CLIENT, AZURE_OPENAI_API_KEY: 'k' })?.env).toBe('AZURE_OPENAI_API_KEY');
    expect(credentialFor(providers.get('foundry')!, { AZURE_CLIENT_ID: CLIENT })?.kind).toBe('oidc-exchange');
    expect(credentialFor(providers.get('foundry')!, { AZURE_CLIENT_ID: CLIENT, ANTHROPIC_FOUNDRY_API_KEY: 'k' })?.env).toBe('ANTHROPIC_FOUNDRY_API_KEY');
    const foundry = resolveProvider(providers.get('foundry')!, { ANTHROPIC_FOUNDRY_RESOURCE: 'contoso-ai', ANTHROPIC_FOUNDRY_API_KEY: 'k' });
    expect(foundry.upstream.href).toBe('https://contoso-ai.services.ai.azure.com/');
    expect(() => resolveProvider(providers.get('foundry')!, { ANTHROPIC_FOUNDRY_RESOURCE: 'https://contoso-ai.services.ai.azure.com', ANTHROPIC_FOUNDRY_API_KEY: 'k' })).toThrow(/resource .* does not look like one/);
  });

  it('puts a Foundry API key on as x-api-key, as Claude Code\'s Foundry client sends it', async () => {
    const foundry = resolveProvider(providers.get('foundry')!, { ANTHROPIC_FOUNDRY_RESOURCE: 'contoso-ai', ANTHROPIC_FOUNDRY_API_KEY: 'real-foundry-key' });
    const req = request('https://contoso-ai.services.ai.azure.com/anthropic/v1/messages');
    await foundry.authorizer.authorize(req);
    expect(req.headers['x-api-key']).toBe('real-foundry-key');
    expect(req.headers.authorization).toBeUndefined();
  });
});

describe('AWS web identity (STS AssumeRoleWithWebIdentity)', () => {
  it('fetches GitHub\'s OIDC token for sts.amazonaws.com, assumes the role, signs with the temporary keys and renews them before they expire', async () => {
    const oidc = await fakeActionsOidc('req');
    const sts = await fakeSts({ roleArn: ROLE, tokenValid: (jwt) => oidc.issued.includes(jwt) && decodeJwt(jwt).aud === 'sts.amazonaws.com', lifetimeSeconds: 900 });
    try {
      let clock = Date.now();
      const env = { AWS_ROLE_ARN: ROLE, AWS_ENDPOINT_URL_STS: sts.url, ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'req' };
      const auth = sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), env, 'us-east-1', () => new Date(clock));
      await auth.prepare();
      const first = request(BEDROCK);
      await auth.authorize(first);
      expect(await signedWith(first, sts.issued[0])).toBe(true);
      expect(new URLSearchParams(sts.seen[0].body).get('RoleSessionName')).toBe('agent-guard');
      clock += 700_000; // 200 s of 900 left: more than a tenth
      await auth.authorize(request(BEDROCK));
      expect(sts.issued).toHaveLength(1);
      clock += 120_000; // 80 s left: due
      const later = request(BEDROCK);
      await auth.authorize(later);
      expect(sts.issued).toHaveLength(2);
      expect(oidc.issued).toHaveLength(2);
      // Signed with the new keys (the fake checks the date against its own clock, so sign "now").
      const fresh = sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), env, 'us-east-1');
      const now = request(BEDROCK);
      await fresh.authorize(now);
      expect(await signedWith(now, sts.issued[2])).toBe(true);
      expect(later.headers['x-amz-security-token']).toBe(sts.issued[1].sessionToken);
    } finally {
      await Promise.all([oidc.close(), sts.close()]);
    }
  });

  it('reads AWS_WEB_IDENTITY_TOKEN_FILE (configure-aws-credentials\' web-identity-token-file) before the Actions endpoint', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, fileJwt('system:serviceaccount:ci:runner', 'sts.amazonaws.com'));
    const sts = await fakeSts({ roleArn: ROLE, tokenValid: (jwt) => decodeJwt(jwt).sub === 'system:serviceaccount:ci:runner' });
    try {
      const env = { AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_SESSION_NAME: 'gha-123', AWS_ENDPOINT_URL_STS: sts.url, ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/unused', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x' };
      const req = request(BEDROCK);
      await sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), env, 'us-east-1').authorize(req);
      expect(await signedWith(req, sts.issued[0])).toBe(true);
      expect(new URLSearchParams(sts.seen[0].body).get('RoleSessionName')).toBe('gha-123');
    } finally {
      await sts.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails closed with STS\'s own words, a role that is not an ARN, or no token at all', async () => {
    const sts = await fakeSts({ roleArn: ROLE, tokenValid: () => false });
    const oidc = await fakeActionsOidc('req');
    try {
      const env = { AWS_ROLE_ARN: ROLE, AWS_ENDPOINT_URL_STS: sts.url, ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'req' };
      await expect(sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), env, 'us-east-1').prepare()).rejects.toThrow(/AssumeRoleWithWebIdentity .* answered 400 \(InvalidIdentityToken: Incorrect token audience\)/);
      expect(() => sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), { ...env, AWS_ROLE_ARN: 'claude-bedrock' }, 'us-east-1')).toThrow(/not an IAM role ARN/);
      expect(() => sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), { AWS_ROLE_ARN: ROLE }, 'us-east-1')).toThrow(/no web identity token: set AWS_WEB_IDENTITY_TOKEN_FILE, or give the job `permissions: id-token: write`/);
      expect(() => sigv4Authorizer(bedrockSpec('AWS_ROLE_ARN'), { ...env, AWS_ENDPOINT_URL_STS: 'http://sts.example' }, 'us-east-1')).toThrow(/must be https/);
    } finally {
      await Promise.all([sts.close(), oidc.close()]);
    }
  });
});

describe('AWS shared credentials profiles', () => {
  const ci = { accessKeyId: 'AKIAPROFILECI00000001', secretAccessKey: 'profile/ci/secret/key/0123456789abcdefghij', sessionToken: 'profile-ci-session-token' };
  let dir: string;
  let credentials: string;
  let config: string;
  beforeAll(() => {
    dir = tmpDir();
    credentials = path.join(dir, 'credentials');
    config = path.join(dir, 'config');
    fs.writeFileSync(credentials, [
      '[default]', 'aws_access_key_id = AKIADEFAULT000000001', 'aws_secret_access_key = default-secret', '',
      '# the CI profile', '[ci]', `aws_access_key_id=${ci.accessKeyId}`, `aws_secret_access_key = ${ci.secretAccessKey}`, `aws_session_token = ${ci.sessionToken}`,
      '[helper]', 'credential_process = /usr/local/bin/get-creds --profile x',
    ].join('\n'));
    fs.writeFileSync(config, [
      '[default]', 'region = us-east-1', '[profile sso]', 'sso_session = corp', 'sso_account_id = 123456789012',
      '[profile chain]', 'role_arn = arn:aws:iam::123456789012:role/x', 'source_profile = default',
      '[profile wi]', `role_arn = ${ROLE}`, `web_identity_token_file = ${path.join(dir, 'wi-token')}`, 's3 =', '  max_concurrent_requests = 10',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'wi-token'), fileJwt('profile-wi', 'sts.amazonaws.com'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses the files as the AWS CLI writes them', () => {
    const sections = parseIni(fs.readFileSync(config, 'utf8'));
    expect(sections.get('profile wi')).toEqual({ role_arn: ROLE, web_identity_token_file: path.join(dir, 'wi-token'), s3: '' });
    expect(sections.get('default')).toEqual({ region: 'us-east-1' });
  });

  it('signs with the named profile\'s keys and hands its secrets to the environment filter', async () => {
    const auth = sigv4Authorizer(bedrockSpec('AWS_PROFILE'), { AWS_PROFILE: 'ci', AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config }, 'us-east-1');
    const req = request(BEDROCK);
    await auth.authorize(req);
    expect(await signedWith(req, ci)).toBe(true);
    expect(auth.secrets).toEqual([ci.secretAccessKey, ci.sessionToken]);
    // AWS_SHARED_CREDENTIALS_FILE alone means the default profile.
    expect(credentialFor(providers.get('bedrock')!, { AWS_SHARED_CREDENTIALS_FILE: credentials })?.env).toBe('AWS_SHARED_CREDENTIALS_FILE');
    const fallback = sigv4Authorizer(bedrockSpec('AWS_SHARED_CREDENTIALS_FILE'), { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config }, 'us-east-1');
    expect(fallback.secrets).toEqual(['default-secret']);
  });

  it('follows role_arn with web_identity_token_file through STS', async () => {
    const sts = await fakeSts({ roleArn: ROLE, tokenValid: (jwt) => decodeJwt(jwt).sub === 'profile-wi' });
    try {
      const req = request(BEDROCK);
      await sigv4Authorizer(bedrockSpec('AWS_PROFILE'), { AWS_PROFILE: 'wi', AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config, AWS_ENDPOINT_URL_STS: sts.url }, 'us-east-1').authorize(req);
      expect(await signedWith(req, sts.issued[0])).toBe(true);
    } finally {
      await sts.close();
    }
  });

  it.each([
    ['helper', /uses credential_process, which the guard does not follow/],
    ['sso', /uses sso_session/],
    ['chain', /uses source_profile/],
    ['missing', /there is no profile missing/],
  ])('refuses profile %s with one line', (profile, message) => {
    expect(() => sigv4Authorizer(bedrockSpec('AWS_PROFILE'), { AWS_PROFILE: profile, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config }, 'us-east-1')).toThrow(message);
  });
});

describe('the AWS container credentials endpoint', () => {
  it('fetches keys with the rotating authorization token file and renews them by their Expiration', async () => {
    const dir = tmpDir();
    const tokenFile = path.join(dir, 'eks-pod-identity-token');
    fs.writeFileSync(tokenFile, 'pod-identity-token-1\n');
    let handedOut: (AwsCreds & { token: string })[] = [];
    const endpoint = await serveJson((call) => {
      const expected = fs.readFileSync(tokenFile, 'utf8').trim();
      if (call.headers.authorization !== expected) return [401, { code: 'AccessDeniedException', message: 'invalid token' }];
      const n = handedOut.length + 1;
      handedOut.push({ accessKeyId: `ASIACONTAINER0000000${n}`, secretAccessKey: `container-secret-${n}`, sessionToken: `container-session-${n}`, token: expected });
      return [200, { AccessKeyId: `ASIACONTAINER0000000${n}`, SecretAccessKey: `container-secret-${n}`, Token: `container-session-${n}`, Expiration: new Date(Date.now() + 600_000).toISOString() }];
    });
    try {
      let clock = Date.now();
      const env = { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${endpoint.url}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile };
      const auth = sigv4Authorizer(bedrockSpec('AWS_CONTAINER_CREDENTIALS_FULL_URI'), env, 'us-east-1', () => new Date(clock));
      await auth.prepare();
      expect(handedOut).toHaveLength(1);
      fs.writeFileSync(tokenFile, 'pod-identity-token-2\n');
      clock += 560_000; // 40 s left: due
      const req = request(BEDROCK);
      await auth.authorize(req);
      expect(handedOut.map((h) => h.token)).toEqual(['pod-identity-token-1', 'pod-identity-token-2']);
      expect(req.headers['x-amz-security-token']).toBe('container-session-2');
      handedOut = [];
      const now = request(BEDROCK);
      await sigv4Authorizer(bedrockSpec('AWS_CONTAINER_CREDENTIALS_FULL_URI'), env, 'us-east-1').authorize(now);
      expect(await signedWith(now, handedOut[0])).toBe(true);
      const denied = sigv4Authorizer(bedrockSpec('AWS_CONTAINER_CREDENTIALS_FULL_URI'), { ...env, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path.join(dir, 'missing') }, 'us-east-1');
      await expect(denied.prepare()).rejects.toThrow(/cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE .*missing: ENOENT/);
    } finally {
      await endpoint.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes plain http only to loopback and the link-local hosts AWS SDKs accept', () => {
    for (const host of CONTAINER_ENDPOINT_HOSTS) expect(checkEndpoint(`http://${host}/v2/credentials/x`, 'the endpoint', CONTAINER_ENDPOINT_HOSTS).hostname).toBe(host);
    expect(() => checkEndpoint('http://10.0.0.5/creds', 'the endpoint', CONTAINER_ENDPOINT_HOSTS)).toThrow(/must be https/);
    expect(() => checkEndpoint('http://169.254.169.254/latest/meta-data', 'the endpoint', CONTAINER_ENDPOINT_HOSTS)).toThrow(/must be https/);
    expect(() => sigv4Authorizer(bedrockSpec('AWS_CONTAINER_CREDENTIALS_FULL_URI'), { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://metadata.example/creds' }, 'us-east-1')).toThrow(/AWS_CONTAINER_CREDENTIALS_FULL_URI http:\/\/metadata.example must be https/);
  });
});
