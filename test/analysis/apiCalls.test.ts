import { findApiCalls } from '../../src/analysis/apiCalls';
import { loadRules } from '../../src/analysis/rulesData';

const apis = loadRules().agents.apis ?? [];
const ids = (text: string) => findApiCalls(text, apis).map((c) => c.api.id);

describe('model and agent APIs in scripts', () => {
  it('finds a call by host (and path prefix) when a client sends it', () => {
    expect(ids('curl -s https://api.openai.com/v1/chat/completions -d "$BODY"')).toEqual(['openai-api']);
    expect(ids("const r = await fetch('https://api.anthropic.com/v1/messages', { method: 'POST' })")).toEqual(['anthropic-api']);
    expect(ids('requests.post("https://openrouter.ai/api/v1/chat/completions", json=body)')).toEqual(['openrouter-api']);
    expect(ids('curl -X POST https://api.cursor.com/v0/agents -d @req.json')).toEqual(['cursor-cloud-agents']);
  });

  it('ignores URLs nothing sends, other paths on the same host, and unknown hosts', () => {
    expect(ids('echo "see https://api.openai.com/docs"')).toEqual([]);
    expect(ids('curl https://openrouter.ai/docs')).toEqual([]);
    expect(ids('curl https://api.cursor.com/teams/members')).toEqual([]);
    expect(ids('curl https://example.com/v1/chat/completions')).toEqual([]);
  });

  it('reports each API once, at its first call', () => {
    const calls = findApiCalls('curl https://api.openai.com/v1/a\ncurl https://api.openai.com/v1/b', apis);
    expect(calls).toHaveLength(1);
    expect(calls[0].start).toBe(5);
  });

  it('recognises agents started without a URL of their own', () => {
    expect(ids('gh issue edit 12 --add-assignee "@copilot"')).toEqual(['copilot-coding-agent']);
    expect(ids('gh agent-task create "fix the flaky test"')).toEqual(['copilot-coding-agent']);
    expect(ids('gh issue edit 12 --add-assignee octocat')).toEqual([]);
  });
});
