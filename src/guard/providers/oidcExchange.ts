// Workload identity federation (claude-code-action's anthropic_federation_rule_id inputs): the
// GitHub OIDC token is exchanged for a short-lived API token the way Claude Code's own SDK does it,
// with the request shape in rules/providers.yml, and the token is refreshed before it expires. The
// agent gets a placeholder; neither the OIDC token nor the exchanged one enters the jail.
import type { CredentialSpec } from './catalogue';
import { applyHeaderTemplates, type Authorizer, headerSafe } from './authorizer';
import { identitySource } from './githubOidc';
import { endpointError, requestJson, TokenEndpointError } from './http';
import { RefreshingToken } from './refreshingToken';

type ExchangeSpec = Extract<CredentialSpec, { kind: 'oidc-exchange' }>;

export function oidcExchangeAuthorizer(spec: ExchangeSpec, env: NodeJS.ProcessEnv, upstream: URL, now: () => number = Date.now): Authorizer {
  const body: Record<string, string> = { grant_type: spec.grantType };
  for (const [field, name] of Object.entries(spec.fields)) {
    const value = env[name]?.trim();
    if (!value) throw new TokenEndpointError(`${spec.env} is set but ${name} is not: the exchange needs both`);
    body[field] = headerSafe(name, value);
  }
  for (const [field, name] of Object.entries(spec.optionalFields)) {
    const value = env[name]?.trim();
    if (value) body[field] = headerSafe(name, value);
  }
  const source = identitySource(env, spec.identityFileEnv);
  if (!source) {
    const file = spec.identityFileEnv ? ` or ${spec.identityFileEnv}` : '';
    throw new TokenEndpointError(`${spec.env} is set but there is no GitHub OIDC token to exchange: give the job \`permissions: id-token: write\` (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN${file})`);
  }
  const audience = (spec.audienceEnv && env[spec.audienceEnv]?.trim()) || spec.audienceDefault;
  const tokenUrl = new URL(upstream.pathname.replace(/\/+$/, '') + spec.tokenPath, upstream);
  const token = new RefreshingToken(async () => {
    const issued = now();
    const assertion = await source.fetch(audience);
    const res = await requestJson(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...spec.tokenHeaders },
      body: JSON.stringify({ ...body, assertion }),
    });
    const expiresIn = Number(res.json.expires_in);
    if (res.status !== 200 || typeof res.json.access_token !== 'string' || !Number.isFinite(expiresIn)) {
      throw endpointError(`the token exchange at ${tokenUrl.origin}${tokenUrl.pathname}`, res);
    }
    return { token: headerSafe('the exchanged token', res.json.access_token), expiresAt: issued + expiresIn * 1000 };
  }, now);
  return {
    source: `${spec.env} (OIDC token from ${source.describe}, exchanged at ${tokenUrl.origin})`,
    secrets: [],
    prepare: async () => void (await token.get()),
    authorize: async (req) => applyHeaderTemplates(req, await token.get(), spec),
  };
}
