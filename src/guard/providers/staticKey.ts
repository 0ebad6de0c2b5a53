// A key or token the maintainer put in the step's environment (ANTHROPIC_API_KEY,
// CLAUDE_CODE_OAUTH_TOKEN, AZURE_OPENAI_API_KEY, AWS_BEARER_TOKEN_BEDROCK…), injected as the data says.
import type { CredentialSpec } from './catalogue';
import { applyHeaderTemplates, type Authorizer, headerSafe, type UpstreamRequest } from './authorizer';

type StaticSpec = Extract<CredentialSpec, { kind: 'static' }>;

export function staticKeyAuthorizer(spec: StaticSpec, env: NodeJS.ProcessEnv): Authorizer {
  const secret = headerSafe(spec.env, env[spec.env] ?? '');
  return {
    source: spec.env,
    secrets: [secret],
    prepare: async () => undefined,
    authorize: async (req: UpstreamRequest) => applyHeaderTemplates(req, secret, spec),
  };
}
