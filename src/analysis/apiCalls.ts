// Models and agents started over HTTP: `curl https://api.openai.com/v1/chat/completions -d "$BODY"`
// in a `run:` script, `fetch('https://api.anthropic.com/v1/messages', …)` in github-script, a POST to a
// hosted agent's API, or handing an issue to Copilot. Which hosts and markers mean what is data
// (`apis` in rules/agents.yml); this module only finds them in a script's text.

import type { AgentApi } from './ruleTypes';

export interface ApiCall {
  api: AgentApi;
  /** Offset of the URL (or marker) in the text. */
  start: number;
  end: number;
}

/** Words that send a request: shell clients, and the HTTP calls of JavaScript and Python. */
const HTTP_CLIENT = /\b(?:curl|wget|(?:xh|https?)\s+(?:GET|POST|PUT|PATCH|-)|Invoke-RestMethod|Invoke-WebRequest|fetch\s*\(|axios|got\s*\(|undici|requests\.(?:post|get|request)|httpx|urllib|urlopen|http\.request|https\.request)/i;
const URL = /\bhttps?:\/\/([A-Za-z0-9.-]+)(?::\d+)?(\/[^\s"'`)\\]*)?/g;

interface Index {
  byHost: Map<string, AgentApi[]>;
  markers: { api: AgentApi; re: RegExp }[];
}

const indexes = new WeakMap<AgentApi[], Index>();

function indexOf(apis: AgentApi[]): Index {
  let index = indexes.get(apis);
  if (index) return index;
  index = { byHost: new Map(), markers: [] };
  for (const api of apis) {
    for (const host of api.hosts ?? []) index.byHost.set(host, [...(index.byHost.get(host) ?? []), api]);
    for (const m of api.markers ?? []) index.markers.push({ api, re: new RegExp(m, 'i') });
  }
  indexes.set(apis, index);
  return index;
}

/** The model and agent APIs a script calls: one entry per API, at its first call. */
export function findApiCalls(text: string, apis: AgentApi[]): ApiCall[] {
  if (!apis.length) return [];
  const index = indexOf(apis);
  const found = new Map<AgentApi, ApiCall>();
  if (text.includes('://') && HTTP_CLIENT.test(text)) {
    for (const m of text.matchAll(URL)) {
      const host = m[1].toLowerCase();
      const path = m[2] ?? '/';
      const api = index.byHost.get(host)?.find((a) => !a.paths || a.paths.some((p) => path.startsWith(p)));
      if (api && !found.has(api)) found.set(api, { api, start: m.index ?? 0, end: (m.index ?? 0) + m[0].length });
    }
  }
  for (const { api, re } of index.markers) {
    if (found.has(api)) continue;
    const m = re.exec(text);
    if (m) found.set(api, { api, start: m.index, end: m.index + m[0].length });
  }
  return [...found.values()].sort((a, b) => a.start - b.start);
}
