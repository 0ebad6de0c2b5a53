// The GitHub Actions OIDC token (a JWT naming this repository, workflow and run), as
// @actions/core's getIDToken fetches it. The guard fetches it itself, on the host: the request URL
// and token (ACTIONS_ID_TOKEN_REQUEST_*) never reach the agent.
import fs from 'node:fs';
import { checkEndpoint, endpointError, requestJson, TokenEndpointError } from './http';

const MAX_JWT = 16 * 1024;

export interface IdentitySource {
  describe: string;
  fetch(audience: string): Promise<string>;
}

/**
 * Where the OIDC token comes from: the Actions endpoint when the step has `id-token: write`, else a
 * file another action keeps fresh (claude-code-action's ANTHROPIC_IDENTITY_TOKEN_FILE, in RUNNER_TEMP,
 * which the jail masks). Undefined when neither is there.
 */
export function identitySource(env: NodeJS.ProcessEnv, fileEnv?: string): IdentitySource | undefined {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && token) {
    return {
      describe: 'the GitHub Actions OIDC endpoint',
      async fetch(audience) {
        const endpoint = checkEndpoint(url, 'ACTIONS_ID_TOKEN_REQUEST_URL');
        endpoint.searchParams.set('audience', audience);
        const res = await requestJson(endpoint, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200 || typeof res.json.value !== 'string') throw endpointError('the GitHub Actions OIDC endpoint', res);
        return checkJwt(res.json.value);
      },
    };
  }
  const file = fileEnv ? env[fileEnv] : undefined;
  if (file) {
    return {
      describe: `${fileEnv} (${file})`,
      // Read at every exchange: the action that wrote it rewrites it before it expires.
      fetch: async () => checkJwt(fs.readFileSync(file, 'utf8').trim()),
    };
  }
  return undefined;
}

function checkJwt(text: string): string {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text) || text.length > MAX_JWT) {
    throw new TokenEndpointError('the identity token is not a JWT');
  }
  return text;
}
