// A GitHub OIDC token exchanged for a short-lived API token, with the request shape in
// rules/providers.yml: Anthropic's workload identity federation (claude-code-action's
// anthropic_federation_rule_id inputs; a JSON body on the API's own host, as Claude Code's SDK sends
// it) and Microsoft Entra ID (azure/login's OIDC flow: the OIDC token as a client assertion, an HTML
// form to login.microsoftonline.com). The token is refreshed before it expires, with a fresh OIDC
// token each time. The agent gets a placeholder; neither token enters the jail.
import type { CredentialSpec } from './catalogue';
import { applyHeaderTemplates, type Authorizer, headerSafe } from './authorizer';
import { identitySource } from './githubOidc';
import { checkEndpoint, endpointError, requestJson, TokenEndpointError } from './http';
import { RefreshingToken } from './refreshingToken';
import { fillTemplate, resolveValues } from './values';

type ExchangeSpec = Extract<CredentialSpec, { kind: 'oidc-exchange' }>;

/** Where the exchange goes: a path on the upstream, or the data's URL with its parts from the environment. */
function exchangeUrl(spec: ExchangeSpec, env: NodeJS.ProcessEnv, upstream: URL): URL {
  if (spec.tokenUrl.startsWith('/')) return new URL(upstream.pathname.replace(/\/+$/, '') + spec.tokenUrl, upstream);
  const values = resolveValues(spec.tokenUrlValues, env, `${spec.env} is set; the token exchange`);
  return checkEndpoint(fillTemplate(spec.tokenUrl, values), 'the token exchange URL');
}

function exchangeFields(spec: ExchangeSpec, env: NodeJS.ProcessEnv): Record<string, string> {
  const body: Record<string, string> = { grant_type: spec.grantType, ...spec.constants };
  for (const [field, name] of Object.entries(spec.fields)) {
    const value = env[name]?.trim();
    if (!value) throw new TokenEndpointError(`${spec.env} is set but ${name} is not: the exchange needs both`);
    body[field] = headerSafe(name, value);
  }
  for (const [field, name] of Object.entries(spec.optionalFields)) {
    const value = env[name]?.trim();
    if (value) body[field] = headerSafe(name, value);
  }
  return body;
}

export function oidcExchangeAuthorizer(spec: ExchangeSpec, env: NodeJS.ProcessEnv, upstream: URL, now: () => number = Date.now): Authorizer {
  const fields = exchangeFields(spec, env);
  const source = identitySource(env, spec.identityFileEnv, spec.identityFileFirst);
  if (!source) {
    const file = spec.identityFileEnv ? ` or ${spec.identityFileEnv}` : '';
    throw new TokenEndpointError(`${spec.env} is set but there is no GitHub OIDC token to exchange: give the job \`permissions: id-token: write\` (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN${file})`);
  }
  const audience = (spec.audienceEnv && env[spec.audienceEnv]?.trim()) || spec.audienceDefault;
  const tokenUrl = exchangeUrl(spec, env, upstream);
  const token = new RefreshingToken(async () => {
    const issued = now();
    const all = { ...fields, [spec.assertionField]: await source.fetch(audience) };
    const encoded = spec.body === 'form'
      ? { type: 'application/x-www-form-urlencoded', text: new URLSearchParams(all).toString() }
      : { type: 'application/json', text: JSON.stringify(all) };
    const res = await requestJson(tokenUrl, { method: 'POST', headers: { 'content-type': encoded.type, ...spec.tokenHeaders }, body: encoded.text });
    // Entra's v2 endpoint answers expires_in as a number, its v1 endpoint as a string.
    const expiresIn = Number(res.json.expires_in);
    if (res.status !== 200 || typeof res.json.access_token !== 'string' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
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
