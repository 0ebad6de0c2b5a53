// The agent's environment is built from nothing: an allowlist of harmless context, the names the
// maintainer passes with --pass-env, and the provider's placeholder key and loopback base URL.
// Anything that could hold a credential, steer a later step or load code into the agent is refused.
import { GuardError } from './errors';
import { agentValues, fillTemplate, type Provider } from './providers';

export const AGENT_HOME = '/home/agent';

const ALLOWED_NAMES = new Set([
  'PATH', 'LANG', 'LANGUAGE', 'TERM', 'TZ', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR', 'CI',
  'GITHUB_ACTIONS', 'GITHUB_REPOSITORY', 'GITHUB_REPOSITORY_ID', 'GITHUB_REPOSITORY_OWNER',
  'GITHUB_REPOSITORY_OWNER_ID', 'GITHUB_REF', 'GITHUB_REF_NAME', 'GITHUB_REF_TYPE', 'GITHUB_REF_PROTECTED',
  'GITHUB_SHA', 'GITHUB_HEAD_REF', 'GITHUB_BASE_REF', 'GITHUB_EVENT_NAME', 'GITHUB_WORKSPACE',
  'GITHUB_SERVER_URL', 'GITHUB_API_URL', 'GITHUB_GRAPHQL_URL', 'GITHUB_RUN_ID', 'GITHUB_RUN_NUMBER',
  'GITHUB_RUN_ATTEMPT', 'GITHUB_WORKFLOW', 'GITHUB_WORKFLOW_REF', 'GITHUB_WORKFLOW_SHA', 'GITHUB_JOB',
  'GITHUB_ACTOR', 'GITHUB_ACTOR_ID', 'GITHUB_TRIGGERING_ACTOR', 'GITHUB_RETENTION_DAYS',
  'RUNNER_OS', 'RUNNER_ARCH', 'RUNNER_ENVIRONMENT',
]);
const ALLOWED_PREFIXES = ['LC_'];

// Never handed to the agent, even when asked for with --pass-env.
const FORBIDDEN_NAMES = new Set([
  'GITHUB_TOKEN', 'GH_TOKEN', 'GH_ENTERPRISE_TOKEN', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_OUTPUT',
  'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_EVENT_PATH', 'RUNNER_TEMP', 'RUNNER_TRACKING_ID',
  // Loaders and startup hooks: each one runs attacker-chosen code in a process that trusts it.
  'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'BASH_ENV', 'ENV', 'PROMPT_COMMAND', 'PYTHONSTARTUP',
  'PYTHONPATH', 'PYTHONHOME', 'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GCONV_PATH', 'GIT_SSH_COMMAND', 'GIT_ASKPASS', 'SSH_ASKPASS',
  'SSH_AUTH_SOCK', 'DOCKER_HOST', 'HOME', 'USER', 'LOGNAME', 'TMPDIR', 'HTTP_PROXY', 'HTTPS_PROXY',
  'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy',
]);
const FORBIDDEN_PREFIXES = ['ACTIONS_', 'INPUT_', 'LD_', 'DYLD_', 'GIT_CONFIG', 'STATE_', 'AGENT_GUARD_'];

// Names that usually carry a secret: their values are collected so that no other variable can
// smuggle the same value in under an innocent name.
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|AUTH)/i;
const MIN_SECRET_LENGTH = 8;

export function isForbiddenName(name: string): boolean {
  return FORBIDDEN_NAMES.has(name) || FORBIDDEN_PREFIXES.some((p) => name.startsWith(p));
}

/** Secret values the guard knows: provider keys and the values of secret-looking variables. */
export function knownSecrets(hostEnv: NodeJS.ProcessEnv, providerKeys: string[]): string[] {
  const out = new Set<string>();
  for (const key of providerKeys) if (key.length >= MIN_SECRET_LENGTH) out.add(key);
  for (const [name, value] of Object.entries(hostEnv)) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    if (SECRET_NAME.test(name) || name.startsWith('ACTIONS_') || name.startsWith('INPUT_')) out.add(value);
  }
  return [...out];
}

export interface AgentEnvInput {
  hostEnv: NodeJS.ProcessEnv;
  passEnv: string[];
  providers: { provider: Provider; base: string; settings?: Record<string, string> }[];
  egressUrl?: string;
  secrets: string[];
}

export interface AgentEnv {
  env: Record<string, string>;
  /** Variables left out because their value carries a known secret. */
  droppedForSecret: string[];
}

function sanitizePath(path: string | undefined): string {
  // Relative entries would resolve inside the (attacker-writable) workspace.
  const entries = (path ?? '').split(':').filter((p) => p.startsWith('/'));
  for (const must of ['/usr/local/bin', '/usr/bin', '/bin']) if (!entries.includes(must)) entries.push(must);
  return entries.join(':');
}

export function buildAgentEnv(input: AgentEnvInput): AgentEnv {
  const { hostEnv, secrets } = input;
  const providerOwned = new Set(input.providers.flatMap(({ provider }) => [...provider.removeEnv, ...provider.credentials.map((c) => c.env)]));
  for (const name of input.passEnv) {
    if (isForbiddenName(name)) throw new GuardError('environment', `--pass-env ${name}: this variable is never passed to the agent`);
    if (providerOwned.has(name)) throw new GuardError('environment', `--pass-env ${name}: the provider proxy holds this credential; the agent gets a placeholder`);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value === undefined) continue;
    if (ALLOWED_NAMES.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  for (const name of input.passEnv) if (hostEnv[name] !== undefined) env[name] = hostEnv[name] as string;
  env.PATH = sanitizePath(env.PATH);
  env.HOME = AGENT_HOME;
  env.USER = 'agent';
  env.LOGNAME = 'agent';
  env.TMPDIR = '/tmp';
  env.CI = env.CI ?? 'true';

  const droppedForSecret: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (secrets.some((s) => value.includes(s))) {
      delete env[name];
      droppedForSecret.push(name);
    }
  }

  const claimed = new Map<string, string>();
  for (const chosen of input.providers) {
    const { provider, base } = chosen;
    const values = agentValues(chosen, base);
    for (const [name, template] of Object.entries(provider.agentEnv)) {
      const value = fillTemplate(template, values);
      const owner = claimed.get(name);
      if (owner !== undefined && env[name] !== value) {
        throw new GuardError('providers', `providers ${owner} and ${provider.name} both set ${name}; pick one`);
      }
      claimed.set(name, provider.name);
      env[name] = value;
    }
  }
  if (input.egressUrl) {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) env[name] = input.egressUrl;
    env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost,::1';
  }
  return { env, droppedForSecret };
}
