// A model provider can fetch URLs on the agent's behalf: Anthropic's web_fetch/web_search tools and
// MCP connector, OpenAI's web_search/mcp tools and remote image/file URLs, Gemini's urlContext and
// googleSearch, OpenRouter's web plugin, ":online" and search-native models. Each is an egress channel
// the jail cannot see (agent-glovebox #5715), so a request body that asks for one is refused unless
// the maintainer allows provider fetches. What counts is data: `fetchers` in rules/providers.yml.
import type { JsonValue } from './canonicalJson';
import type { FetcherPolicy } from './providers';

type Obj = { [key: string]: JsonValue };

const isObject = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Whether a provider would take `text` as a URL to fetch: anything a WHATWG URL parser (Node's URL)
 * accepts as absolute, after trimming what it trims (leading and trailing C0 controls and spaces,
 * tabs and newlines anywhere), with any scheme but data:. So `\thttps://x`, `HTTP://x`, `https:\\x`
 * and `gs://bucket/x` are all remote.
 */
export function isRemoteUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return url.protocol !== 'data:';
}

function urlIn(value: JsonValue): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.url === 'string') return value.url;
  return undefined;
}

function fetchingTool(tool: JsonValue, policy: FetcherPolicy): string | undefined {
  if (!isObject(tool)) return undefined;
  if (typeof tool.type === 'string' && policy.toolTypes.some((t) => (tool.type as string).startsWith(t))) return `provider-side tool "${tool.type}"`;
  const key = policy.toolKeys.find((k) => k in tool);
  return key ? `provider-side tool "${key}"` : undefined;
}

function searchModel(value: JsonValue, policy: FetcherPolicy): string | undefined {
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const hit = names.find((name) => policy.searchModels.some((re) => re.test(name)));
  return hit ? `model "${hit.slice(0, 80)}" searches the web by itself` : undefined;
}

/** An option asks for a fetch unless it is null, false or an empty list (`{}` turns web search on). */
function present(value: JsonValue): boolean {
  return value !== null && value !== false && !(Array.isArray(value) && value.length === 0);
}

function checkKey(key: string, value: JsonValue, policy: FetcherPolicy): string | undefined {
  if (policy.optionKeys.includes(key) && present(value)) return `provider-side fetch ("${key}")`;
  if (key === 'tools' || key === 'functionDeclarations') {
    // Gemini takes `tools` as a list or as a single object: check both shapes.
    for (const tool of Array.isArray(value) ? value : [value]) {
      const found = fetchingTool(tool, policy);
      if (found) return found;
    }
  }
  if (key === 'plugins' && Array.isArray(value)) {
    const plugin = value.find((p) => isObject(p) && typeof p.id === 'string' && policy.pluginIds.includes(p.id));
    if (plugin) return `provider-side plugin "${(plugin as Obj).id}"`;
  }
  if (key === 'model' || key === 'models') {
    const found = searchModel(value, policy);
    if (found) return found;
  }
  if (key === 'source' && isObject(value) && typeof value.type === 'string' && policy.sourceTypes.includes(value.type)) {
    return 'content fetched by the provider from a URL';
  }
  if (policy.urlFields.includes(key)) {
    const url = urlIn(value);
    if (url !== undefined && isRemoteUrl(url)) return `content fetched by the provider from a URL (${key})`;
  }
  return undefined;
}

/** Why the body asks the provider to reach out on its own, or undefined when it does not. */
export function findProviderFetch(body: JsonValue, policy: FetcherPolicy): string | undefined {
  // The body came from parseStrictJson, so its depth is bounded; walk it without recursion anyway.
  const stack: JsonValue[] = [body];
  while (stack.length > 0) {
    const node = stack.pop() as JsonValue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (!isObject(node)) continue;
    for (const [key, value] of Object.entries(node)) {
      const found = checkKey(key, value, policy);
      if (found) return found;
      if (value && typeof value === 'object') stack.push(value);
    }
  }
  return undefined;
}
