// A stand-in for claude-code-action's github_comment MCP server (the action's own runs with bun, which
// the test machine lacks): a stdio MCP server with its one tool, update_claude_comment, making the
// same call the action's server makes (Octokit's issues.updateComment, here through @octokit/core)
// with GITHUB_TOKEN, GITHUB_API_URL, REPO_OWNER, REPO_NAME and CLAUDE_COMMENT_ID from its env.
import path from 'node:path';

const OCTOKIT = path.join(__dirname, '..', '..', '..', 'node_modules', '@octokit', 'core');

export const COMMENT_SERVER = `
const { Octokit } = require(${JSON.stringify(OCTOKIT)});
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
let buffer = '';
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (line.trim()) handle(JSON.parse(line));
  }
});
async function handle(msg) {
  if (msg.method === 'initialize') return send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'GitHub Comment Server', version: '0.0.1' } } });
  if (msg.method === 'tools/list') return send({ jsonrpc: '2.0', id: msg.id, result: { tools: [{ name: 'update_claude_comment', description: 'Update the Claude comment with progress and results', inputSchema: { type: 'object', properties: { body: { type: 'string' } }, required: ['body'] } }] } });
  if (msg.method === 'tools/call') {
    try {
      const octokit = new Octokit({ auth: process.env.GITHUB_TOKEN, baseUrl: process.env.GITHUB_API_URL });
      const r = await octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { owner: process.env.REPO_OWNER, repo: process.env.REPO_NAME, comment_id: parseInt(process.env.CLAUDE_COMMENT_ID, 10), body: msg.params.arguments.body });
      send({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: JSON.stringify({ id: r.data.id, html_url: r.data.html_url }) }] } });
    } catch (err) {
      send({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: 'Error: ' + err.message }], isError: true } });
    }
    return;
  }
  if (msg.id !== undefined) send({ jsonrpc: '2.0', id: msg.id, result: {} });
}
`;
