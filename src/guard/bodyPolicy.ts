// A model provider can fetch URLs on the agent's behalf: Anthropic's web_fetch/web_search tools and
// MCP connector, OpenAI's web_search/mcp tools and remote image/file URLs, Gemini's url_context and
// google_search, OpenRouter's web plugin and ":online" models. Each is an egress channel the jail
// cannot see (agent-glovebox #5715), so request bodies that ask for one are refused unless the
// maintainer allows provider fetches.
const FETCHING_TOOL_TYPE = /^(web_search|web_fetch|url_context|google_search|mcp$|mcp_)/;
const FETCHING_TOOL_KEYS = ['googleSearch', 'google_search', 'googleSearchRetrieval', 'google_search_retrieval', 'urlContext', 'url_context'];
const REMOTE_REFERENCE_KEYS = new Set(['image_url', 'file_url', 'document_url', 'audio_url', 'video_url', 'fileUri', 'file_uri']);
const MAX_DEPTH = 64;

function isRemote(value: unknown): boolean {
  const text = typeof value === 'string' ? value : (value as { url?: unknown } | null)?.url;
  return typeof text === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(text.trim()) && !/^data:/i.test(text.trim());
}

function checkTools(tools: unknown[]): string | undefined {
  for (const tool of tools) {
    if (!tool || typeof tool !== 'object') continue;
    const t = tool as Record<string, unknown>;
    if (typeof t.type === 'string' && FETCHING_TOOL_TYPE.test(t.type)) return `provider-side tool "${t.type}"`;
    for (const key of FETCHING_TOOL_KEYS) if (key in t) return `provider-side tool "${key}"`;
  }
  return undefined;
}

/** Why the body asks the provider to reach out on its own, or undefined when it does not. */
export function findProviderFetch(body: unknown): string | undefined {
  const walk = (node: unknown, depth: number): string | undefined => {
    if (depth > MAX_DEPTH) return 'request body nested too deeply to check';
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = walk(item, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    if (!node || typeof node !== 'object') return undefined;
    const obj = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
      if ((key === 'mcp_servers' || key === 'mcpServers') && value && (!Array.isArray(value) || value.length > 0)) {
        return 'MCP servers run by the provider';
      }
      if (key === 'web_search_options' && value != null) return 'provider-side web search';
      if (key === 'plugins' && Array.isArray(value) && value.some((p) => (p as { id?: unknown })?.id === 'web')) {
        return 'provider-side web plugin';
      }
      if (key === 'model' && typeof value === 'string' && /:online$/.test(value)) return 'provider-side web search (":online" model)';
      if ((key === 'tools' || key === 'functionDeclarations') && Array.isArray(value)) {
        const found = checkTools(value);
        if (found) return found;
      }
      if (key === 'source' && value && typeof value === 'object' && (value as { type?: unknown }).type === 'url') {
        return 'content fetched by the provider from a URL';
      }
      if (REMOTE_REFERENCE_KEYS.has(key) && isRemote(value)) return `content fetched by the provider from a URL (${key})`;
      if (value && typeof value === 'object') {
        const found = walk(value, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(body, 0);
}
