// Each credential kind in rules/providers.yml against a double of the service that checks it: the
// SigV4 signer against @smithy/signature-v4 computing the same signature independently, the
// Anthropic federation exchange and Google's token endpoints against fakes that verify what they
// get (an OIDC token the fake Actions endpoint minted, a JWT signed by the service account's key),
// and the refresh of a short-lived token on a clock the test moves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinProviders, credentialFor, type CredentialSpec, resolveProvider, type UpstreamRequest } from '../../src/guard/providers';
import { googleAdcAuthorizer } from '../../src/guard/providers/googleAdc';
import { oidcExchangeAuthorizer } from '../../src/guard/providers/oidcExchange';
import { RefreshingToken } from '../../src/guard/providers/refreshingToken';
import { signRequest } from '../../src/guard/providers/sigv4';
import { decodeJwt, fakeActionsOidc, serveJson, sigV4Valid } from './helpers/fakeCredentials';

const anthropic = builtinProviders().get('anthropic')!;
const federation = anthropic.credentials.find((c) => c.kind === 'oidc-exchange') as Extract<CredentialSpec, { kind: 'oidc-exchange' }>;
const vertexAdc = builtinProviders().get('vertex')!.credentials.find((c) => c.kind === 'google-adc') as Extract<CredentialSpec, { kind: 'google-adc' }>;

function request(url: string, body = '{"a":1}'): UpstreamRequest {
  return { method: 'POST', url: new URL(url), headers: { 'content-type': 'application/json', 'anthropic-beta': 'tools-2024' }, body: Buffer.from(body) };
}

describe('credential kinds are chosen from the environment, in the order of the data', () => {
  it.each([
    [{ ANTHROPIC_API_KEY: 'k', CLAUDE_CODE_OAUTH_TOKEN: 'o' }, 'ANTHROPIC_API_KEY'],
    [{ CLAUDE_CODE_OAUTH_TOKEN: 'o' }, 'CLAUDE_CODE_OAUTH_TOKEN'],
    [{ ANTHROPIC_FEDERATION_RULE_ID: 'fdrl_1', ANTHROPIC_ORGANIZATION_ID: 'org' }, 'ANTHROPIC_FEDERATION_RULE_ID'],
  ])('%j → %s', (env, name) => {
    expect(credentialFor(anthropic, env)?.env).toBe(name);
  });

  it('puts an OAuth token on as Bearer with the OAuth beta flag added to the agent\'s own list', async () => {
    const resolved = resolveProvider(anthropic, { CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-real' }, 'http://127.0.0.1:1');
    const req = request('http://127.0.0.1:1/v1/messages');
    await resolved.authorizer.authorize(req);
    expect(req.headers.authorization).toBe('Bearer sk-ant-oat01-real');
    expect(req.headers['anthropic-beta']).toBe('tools-2024,oauth-2025-04-20');
    expect(resolved.authorizer.secrets).toEqual(['sk-ant-oat01-real']);
  });

  it('names every variable when none is set, and what a setting needs', () => {
    expect(() => resolveProvider(anthropic, {})).toThrow(/ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, ANTHROPIC_FEDERATION_RULE_ID/);
    expect(() => resolveProvider(builtinProviders().get('bedrock')!, { AWS_ACCESS_KEY_ID: 'AKIA' })).toThrow(/region: set one of AWS_REGION, AWS_DEFAULT_REGION/);
    expect(() => resolveProvider(builtinProviders().get('bedrock')!, { AWS_REGION: 'us-east-1;evil', AWS_ACCESS_KEY_ID: 'AKIA' })).toThrow(/does not look like one/);
    expect(() => resolveProvider(builtinProviders().get('bedrock')!, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIA' })).toThrow(/AWS_SECRET_ACCESS_KEY is not/);
  });

  it('builds each upstream from its settings', () => {
    const vertex = builtinProviders().get('vertex')!;
    const env = { GOOGLE_OAUTH_ACCESS_TOKEN: 'ya29.x', GOOGLE_CLOUD_PROJECT: 'my-project-1' };
    expect(resolveProvider(vertex, env).upstream.href).toBe('https://aiplatform.googleapis.com/');
    expect(resolveProvider(vertex, { ...env, CLOUD_ML_REGION: 'us-east5' }).upstream.href).toBe('https://us-east5-aiplatform.googleapis.com/');
    expect(resolveProvider(vertex, { ...env, GOOGLE_CLOUD_LOCATION: 'eu' }).upstream.href).toBe('https://aiplatform.eu.rep.googleapis.com/');
    const bedrock = resolveProvider(builtinProviders().get('bedrock')!, { AWS_REGION: 'eu-west-3', AWS_BEARER_TOKEN_BEDROCK: 'bedrock-key' });
    expect(bedrock.upstream.href).toBe('https://bedrock-runtime.eu-west-3.amazonaws.com/');
    const azure = resolveProvider(builtinProviders().get('azure-openai')!, { AZURE_OPENAI_ENDPOINT: 'https://contoso-ai.openai.azure.com/', AZURE_OPENAI_API_KEY: 'az' });
    expect(azure.upstream.href).toBe('https://contoso-ai.openai.azure.com/');
  });
});

describe('AWS SigV4', () => {
  const creds = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzEXAMPLEsession' };

  it.each([
    ['a model id with an encoded colon', '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream', ''],
    ['a query', '/model/m/invoke', '?b=2&a=1&a=0'],
    ['characters !\'()*', "/model/a!'()*b/invoke", ''],
  ])('signs %s exactly as Smithy verifies it', async (_name, pathName, query) => {
    const req = request(`https://bedrock-runtime.us-east-1.amazonaws.com${pathName}${query}`, '{"messages":[],"max_tokens":8}');
    signRequest(req, creds, 'us-east-1', 'bedrock', new Date());
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const call = { method: 'POST', url: req.url.pathname + req.url.search, headers: { ...headers, host: req.url.host }, body: req.body };
    expect(await sigV4Valid(call, creds, 'us-east-1', 'bedrock')).toBe(true);
    // A byte changed anywhere breaks it: the body, the path, the secret.
    expect(await sigV4Valid({ ...call, body: '{"messages":[],"max_tokens":9}' }, creds, 'us-east-1', 'bedrock')).toBe(false);
    expect(await sigV4Valid({ ...call, url: call.url.replace('/invoke', '/converse') }, creds, 'us-east-1', 'bedrock')).toBe(false);
    expect(await sigV4Valid(call, { ...creds, secretAccessKey: 'other' }, 'us-east-1', 'bedrock')).toBe(false);
  });
});

describe('a short-lived token', () => {
  it('is minted once, refreshed before it expires, never twice at once, and kept when a refresh fails in time', async () => {
    let clock = 1_000_000;
    let mints = 0;
    let failNext = false;
    const token = new RefreshingToken(async () => {
      mints++;
      if (failNext) throw new Error('endpoint down');
      return { token: `t${mints}`, expiresAt: clock + 600_000 };
    }, () => clock);
    expect(await Promise.all([token.get(), token.get(), token.get()])).toEqual(['t1', 't1', 't1']);
    expect(mints).toBe(1);
    clock += 500_000; // still 100 s left: more than the 60 s margin
    expect(await token.get()).toBe('t1');
    clock += 50_000; // 50 s left: due
    expect(await token.get()).toBe('t2');
    clock += 550_000;
    failNext = true;
    expect(await token.get()).toBe('t2'); // refresh failed, t2 has not expired yet
    clock += 60_000;
    await expect(token.get()).rejects.toThrow('endpoint down');
  });
});

describe('Anthropic workload identity federation', () => {
  const REQUEST_TOKEN = 'actions-request-token-abc';

  it('exchanges a GitHub OIDC token the guard fetched, with the body Claude Code sends, and refreshes it before expiry', async () => {
    const oidc = await fakeActionsOidc(REQUEST_TOKEN);
    const used = new Set<string>();
    let minted = 0;
    const exchange = await serveJson((call) => {
      const body = JSON.parse(call.body);
      const claims = decodeJwt(body.assertion);
      if (call.url !== '/v1/oauth/token' || call.headers['anthropic-beta'] !== 'oauth-2025-04-20,oidc-federation-2026-04-01') return [400, { error: 'bad request' }];
      if (!oidc.issued.includes(body.assertion) || used.has(String(claims.jti))) return [401, { error: 'invalid_grant', error_description: 'jti_reused' }];
      used.add(String(claims.jti));
      if (claims.aud !== 'https://api.anthropic.com' || body.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return [401, { error: 'invalid_grant' }];
      if (body.federation_rule_id !== 'fdrl_1' || body.organization_id !== 'org-1' || body.service_account_id !== 'svac_1' || 'workspace_id' in body) return [401, { error: 'no rule' }];
      return [200, { access_token: `sk-ant-fed-${++minted}`, expires_in: 120, token_type: 'Bearer' }];
    });
    try {
      let clock = Date.now();
      const env = {
        ANTHROPIC_FEDERATION_RULE_ID: 'fdrl_1', ANTHROPIC_ORGANIZATION_ID: 'org-1', ANTHROPIC_SERVICE_ACCOUNT_ID: 'svac_1',
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      };
      const auth = oidcExchangeAuthorizer(federation, env, new URL(exchange.url), () => clock);
      await auth.prepare();
      const first = request(`${exchange.url}/v1/messages`);
      await auth.authorize(first);
      expect(first.headers.authorization).toBe('Bearer sk-ant-fed-1');
      expect(first.headers['anthropic-beta']).toBe('tools-2024,oauth-2025-04-20');
      clock += 30_000;
      const second = request(`${exchange.url}/v1/messages`);
      await auth.authorize(second);
      expect(second.headers.authorization).toBe('Bearer sk-ant-fed-1');
      clock += 61_000; // 29 s of 120 left: past the 60 s margin
      const third = request(`${exchange.url}/v1/messages`);
      await auth.authorize(third);
      expect(third.headers.authorization).toBe('Bearer sk-ant-fed-2');
      expect(oidc.issued).toHaveLength(2);
      expect(exchange.seen).toHaveLength(2);
      // The request token went only to the Actions endpoint; nothing of it or the JWT reaches a request.
      expect(JSON.stringify(third.headers)).not.toMatch(/actions-request-token|eyJ/);
    } finally {
      await oidc.close();
      await exchange.close();
    }
  });

  it('reads the identity token file claude-code-action keeps fresh when the Actions endpoint is not in its environment', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-wif-'));
    const file = path.join(dir, 'identity-token');
    const jwt = (n: number) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ jti: `j${n}` })).toString('base64url')}.`;
    fs.writeFileSync(file, jwt(1));
    const exchange = await serveJson((call) => [200, { access_token: `tok-${decodeJwt(JSON.parse(call.body).assertion).jti}`, expires_in: 100, token_type: 'Bearer' }]);
    try {
      let clock = Date.now();
      const auth = oidcExchangeAuthorizer(federation, { ANTHROPIC_FEDERATION_RULE_ID: 'r', ANTHROPIC_ORGANIZATION_ID: 'o', ANTHROPIC_IDENTITY_TOKEN_FILE: file }, new URL(exchange.url), () => clock);
      const req = request(`${exchange.url}/v1/messages`);
      await auth.authorize(req);
      expect(req.headers.authorization).toBe('Bearer tok-j1');
      fs.writeFileSync(file, jwt(2));
      clock += 70_000;
      await auth.authorize(req);
      expect(req.headers.authorization).toBe('Bearer tok-j2');
    } finally {
      await exchange.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails closed, saying why, without an OIDC token or with a refused exchange', async () => {
    expect(() => oidcExchangeAuthorizer(federation, { ANTHROPIC_FEDERATION_RULE_ID: 'r', ANTHROPIC_ORGANIZATION_ID: 'o' }, new URL('https://api.anthropic.com'))).toThrow(/id-token: write/);
    expect(() => oidcExchangeAuthorizer(federation, { ANTHROPIC_FEDERATION_RULE_ID: 'r' }, new URL('https://api.anthropic.com'))).toThrow(/ANTHROPIC_ORGANIZATION_ID is not/);
    const oidc = await fakeActionsOidc('t');
    const exchange = await serveJson(() => [401, { error: 'invalid_grant', error_description: 'rule does not match' }]);
    try {
      const auth = oidcExchangeAuthorizer(federation, { ANTHROPIC_FEDERATION_RULE_ID: 'r', ANTHROPIC_ORGANIZATION_ID: 'o', ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' }, new URL(exchange.url));
      await expect(auth.prepare()).rejects.toThrow(/answered 401 \(invalid_grant: rule does not match\)/);
    } finally {
      await oidc.close();
      await exchange.close();
    }
  });
});

describe('Google credentials files', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-adc-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, json: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(json));
    return file;
  };

  it('signs a service-account JWT the token endpoint verifies with the public key', async () => {
    const endpoint = await serveJson((call) => {
      const form = new URLSearchParams(call.body);
      const [h, c, s] = (form.get('assertion') ?? '').split('.');
      const valid = crypto.createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'));
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
      if (!valid || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return [400, { error: 'invalid_grant' }];
      if (claims.iss !== 'agent@proj.iam.gserviceaccount.com' || claims.scope !== 'https://www.googleapis.com/auth/cloud-platform' || claims.aud !== `${endpoint.url}/token`) return [400, { error: 'invalid_scope' }];
      return [200, { access_token: 'ya29.service-account', expires_in: 3599, token_type: 'Bearer' }];
    });
    try {
      const file = write('sa.json', { type: 'service_account', client_email: 'agent@proj.iam.gserviceaccount.com', private_key: pem, private_key_id: 'k1', token_uri: `${endpoint.url}/token` });
      const auth = googleAdcAuthorizer(vertexAdc, { GOOGLE_APPLICATION_CREDENTIALS: file });
      const req = request('https://aiplatform.googleapis.com/v1/x');
      await auth.authorize(req);
      expect(req.headers.authorization).toBe('Bearer ya29.service-account');
      expect(auth.secrets).toContain(pem);
    } finally {
      await endpoint.close();
    }
  });

  it('exchanges GitHub\'s OIDC token at the STS and impersonates the service account (workload identity, as google-github-actions/auth writes it)', async () => {
    const oidc = await fakeActionsOidc('req-token');
    const sts = await serveJson((call) => {
      const form = new URLSearchParams(call.body);
      if (!oidc.issued.includes(form.get('subject_token') ?? '') || form.get('audience') !== '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh') return [400, { error: 'invalid_grant' }];
      return [200, { access_token: 'federated-sts-token', expires_in: 3600, token_type: 'Bearer' }];
    });
    const iam = await serveJson((call) => {
      if (call.headers.authorization !== 'Bearer federated-sts-token') return [401, { error: { message: 'unauthenticated' } }];
      return [200, { accessToken: 'ya29.impersonated', expireTime: new Date(Date.now() + 3600_000).toISOString() }];
    });
    try {
      const file = write('wif.json', {
        type: 'external_account',
        audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh',
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${sts.url}/v1/token`,
        service_account_impersonation_url: `${iam.url}/v1/projects/-/serviceAccounts/agent@proj.iam.gserviceaccount.com:generateAccessToken`,
        credential_source: { url: `${oidc.url}&audience=${encodeURIComponent('https://iam.googleapis.com/x')}`, headers: { Authorization: 'Bearer req-token' }, format: { type: 'json', subject_token_field_name: 'value' } },
      });
      const auth = googleAdcAuthorizer(vertexAdc, { GOOGLE_APPLICATION_CREDENTIALS: file });
      await auth.prepare();
      const req = request('https://aiplatform.googleapis.com/v1/x');
      await auth.authorize(req);
      expect(req.headers.authorization).toBe('Bearer ya29.impersonated');
      expect(JSON.parse(iam.seen[0].body)).toEqual({ scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '3600s' });
      expect(auth.secrets).toContain('Bearer req-token');
    } finally {
      await Promise.all([oidc.close(), sts.close(), iam.close()]);
    }
  });

  it('refreshes an authorized user\'s token and refuses what it cannot run', async () => {
    const endpoint = await serveJson((call) => {
      const form = new URLSearchParams(call.body);
      return form.get('refresh_token') === '1//refresh' ? [200, { access_token: 'ya29.user', expires_in: 3600 }] : [400, { error: 'invalid_grant' }];
    });
    try {
      const file = write('user.json', { type: 'authorized_user', client_id: 'c', client_secret: 'client-secret-x', refresh_token: '1//refresh', token_uri: `${endpoint.url}/token` });
      const req = request('https://aiplatform.googleapis.com/v1/x');
      await googleAdcAuthorizer(vertexAdc, { GOOGLE_APPLICATION_CREDENTIALS: file }).authorize(req);
      expect(req.headers.authorization).toBe('Bearer ya29.user');
      const exec = write('exec.json', { type: 'external_account', audience: 'a', subject_token_type: 't', token_url: 'https://sts.googleapis.com/v1/token', credential_source: { executable: { command: 'id' } } });
      await expect(googleAdcAuthorizer(vertexAdc, { GOOGLE_APPLICATION_CREDENTIALS: exec }).prepare()).rejects.toThrow(/executable sources are not run/);
      const plain = write('plain-http.json', { type: 'authorized_user', client_id: 'c', client_secret: 's', refresh_token: 'r', token_uri: 'http://evil.example/token' });
      await expect(googleAdcAuthorizer(vertexAdc, { GOOGLE_APPLICATION_CREDENTIALS: plain }).prepare()).rejects.toThrow(/must be https/);
    } finally {
      await endpoint.close();
    }
  });
});
