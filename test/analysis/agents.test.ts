import * as fs from 'fs';
import * as path from 'path';
import { parseDocument } from 'yaml';
import {
  actionKeyInProcess,
  actionReadsThread,
  actionToolReach,
  cliById,
  cliToolReach,
  matchAgentAction,
  type CliInvocation,
} from '../../src/analysis/agents';
import { findCliInvocations } from '../../src/analysis/shellScanner';

// ---------------------------------------------------------------------------------------------------
// uses: → agent action

describe('matchAgentAction', () => {
  const table: [string, string | null][] = [
    ['anthropics/claude-code-action@v1', 'claude-code-action'],
    ['anthropics/claude-code-action@beta', 'claude-code-action'],
    ['anthropics/claude-code-action@v0.0.63', 'claude-code-action'],
    ['anthropics/claude-code-action@094bd24d575e7b30ac1576024817bf1a97c81262', 'claude-code-action'],
    ['Anthropics/Claude-Code-Action@V1', 'claude-code-action'],
    ['  anthropics/claude-code-action@v1  ', 'claude-code-action'],
    ['anthropics/claude-code-action', 'claude-code-action'],
    ['anthropics/claude-code-action/base-action@v1', 'claude-code-base-action'],
    ['anthropics/claude-code-base-action@beta', 'claude-code-base-action'],
    ['anthropics/claude-code-security-review@main', 'claude-code-security-review'],
    ['openai/codex-action@v1', 'codex-action'],
    ['openai/codex-action@main', 'codex-action'],
    ["google-github-actions/run-gemini-cli@a3bf79042542528e91937b3a3a6fbc4967ee3c31", 'run-gemini-cli'],
    ['google-gemini/gemini-cli-action@main', 'run-gemini-cli'],
    ['QwenLM/qwen-code-action@5fd6818d04d64e87d255ee4d5f77995e32fbf4c2', 'qwen-code-action'],
    ['actions/ai-inference@v1', 'ai-inference'],
    ['actions/ai-inference@v3', 'ai-inference'],
    ['anomalyco/opencode/github@v1.18.9', 'opencode-github'],
    ['sst/opencode/github@latest', 'opencode-github'],
    ['Factory-AI/droid-action@v3', 'droid-action'],
    ['warpdotdev/warp-agent-action@v1', 'warp-agent-action'],
    ['warpdotdev/oz-agent-action@v1', 'oz-agent-action'],
    ['mirrajabi/aider-github-action@main', 'aider-github-action'],
    ['takutakahashi/goose-action@main', 'goose-action'],
    ['qodo-ai/pr-agent@main', 'pr-agent'],
    ['Codium-ai/pr-agent@main', 'pr-agent'],
    ['CodiumAI/pr-agent@main', 'pr-agent'],
    ['the-pr-agent/pr-agent@main', 'pr-agent'],
    ['coderabbitai/ai-pr-reviewer@latest', 'coderabbit-ai-pr-reviewer'],
    ['OpenHands/OpenHands/.github/workflows/openhands-resolver.yml@main', 'openhands-resolver'],
    ['All-Hands-AI/OpenHands/.github/workflows/openhands-resolver.yml@main', 'openhands-resolver'],
    ['github/ai-moderator@v1', 'ai-moderator'],
    ['google/gemini-code-assist-action@v1', 'gemini-code-assist-action'],
    ['openai/chat-completion-action@v1', 'openai-chat-completion-action'],
    ['max-sixty/tend/claude@0.1.18', 'tend-claude'],
    // not agents
    ['./.github/actions/run-claude', null],
    ['../shared/claude', null],
    ['docker://ghcr.io/anthropics/claude-code-action:latest', null],
    ['actions/checkout@v4', null],
    ['anthropics/claude-code@v1', null],
    ['anthropics/claude-code-actionx@v1', null],
    ['anomalyco/opencode@v1', null],
    ['sst/opencode/githubx@v1', null],
    ['openai', null],
    ['', null],
  ];
  test.each(table)('%s → %s', (uses, id) => {
    expect(matchAgentAction(uses)?.id ?? null).toBe(id);
  });

  test('a subpath under a listed repository resolves to that repository', () => {
    expect(matchAgentAction('openai/codex-action/sub/path@v1')?.id).toBe('codex-action');
  });
});

// ---------------------------------------------------------------------------------------------------
// run: → CLI invocations

interface Expect {
  cli: string;
  /** The script text at [start, end). */
  text: string;
  bypass?: string[];
  tools?: string[];
  sub?: string;
  env?: Record<string, string>;
  args?: string[];
}

function summarise(script: string, invs: CliInvocation[]): Expect[] {
  return invs.map((i) => ({
    cli: i.cli.id,
    text: script.slice(i.start, i.end),
    bypass: i.bypass,
    tools: i.tools,
    sub: i.subcommand,
    env: i.envAssignments,
    args: i.args,
  }));
}

function check(script: string, expected: Expect[]): void {
  const got = summarise(script, findCliInvocations(script));
  expect(got.map((g) => ({ cli: g.cli, text: g.text }))).toEqual(expected.map((e) => ({ cli: e.cli, text: e.text })));
  expected.forEach((e, k) => {
    if (e.bypass) expect(got[k].bypass).toEqual(e.bypass);
    if (e.tools) expect(got[k].tools).toEqual(e.tools);
    if (e.sub !== undefined) expect(got[k].sub).toBe(e.sub);
    if (e.env) expect(got[k].env).toEqual(e.env);
    if (e.args) expect(got[k].args).toEqual(e.args);
  });
}

describe('findCliInvocations: positives', () => {
  const cases: [string, string, Expect[]][] = [
    ['plain claude -p', 'claude -p "Review this PR"', [{ cli: 'claude', text: 'claude', bypass: [], args: ['-p', 'Review this PR'] }]],
    ['skip permissions', 'claude -p --dangerously-skip-permissions "$PROMPT"', [{ cli: 'claude', text: 'claude', bypass: ['--dangerously-skip-permissions'] }]],
    ['permission-mode with space', 'claude --permission-mode bypassPermissions -p hi', [{ cli: 'claude', text: 'claude', bypass: ['--permission-mode=bypassPermissions'] }]],
    ['permission-mode with =', 'claude --permission-mode=bypassPermissions -p hi', [{ cli: 'claude', text: 'claude', bypass: ['--permission-mode=bypassPermissions'] }]],
    ['permission-mode plan is not bypass', 'claude --permission-mode plan -p hi', [{ cli: 'claude', text: 'claude', bypass: [] }]],
    ['allowed tools value', 'claude -p "x" --allowedTools "Bash(gh issue:*),Read"', [{ cli: 'claude', text: 'claude', tools: ['Bash(gh issue:*),Read'] }]],
    ['allowed-tools empty (toasty)', 'claude -p --allowed-tools "" --output-format json < prompt.txt', [{ cli: 'claude', text: 'claude', tools: [''] }]],
    ['absolute path', '/usr/local/bin/claude -p hi', [{ cli: 'claude', text: '/usr/local/bin/claude' }]],
    ['relative node_modules path', './node_modules/.bin/claude -p hi', [{ cli: 'claude', text: './node_modules/.bin/claude' }]],
    ['quoted $HOME path', '"$HOME/.local/bin/claude" -p "$PROMPT"', [{ cli: 'claude', text: '"$HOME/.local/bin/claude"' }]],
    ['pipe into claude', 'cat prompt.md | claude -p --output-format json > out.json', [{ cli: 'claude', text: 'claude', args: ['-p', '--output-format', 'json'] }]],
    ['pipeline output', 'claude -p "$P" | tee review.md', [{ cli: 'claude', text: 'claude' }]],
    ['after &&', 'cd repo && claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['after ||', 'false || claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['after ;', 'echo start; claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['background &', 'claude -p hi & wait', [{ cli: 'claude', text: 'claude' }]],
    ['leading assignments', 'ANTHROPIC_API_KEY=$KEY DEBUG=1 claude -p hi', [{ cli: 'claude', text: 'claude', env: { ANTHROPIC_API_KEY: '$KEY', DEBUG: '1' } }]],
    ['command substitution', 'REVIEW=$(claude -p "review" --output-format text)\necho "$REVIEW"', [{ cli: 'claude', text: 'claude' }]],
    ['command substitution in double quotes', 'echo "result: $(claude -p hi)"', [{ cli: 'claude', text: 'claude' }]],
    ['backticks', 'OUT=`claude -p hi`', [{ cli: 'claude', text: 'claude' }]],
    ['subshell', '(cd sub && claude -p hi)', [{ cli: 'claude', text: 'claude' }]],
    ['brace group', '{ claude -p hi; } > out.txt', [{ cli: 'claude', text: 'claude' }]],
    ['if condition', 'if claude -p "ok?" | grep -q yes; then echo y; fi', [{ cli: 'claude', text: 'claude' }]],
    ['if body', 'if [ -n "$X" ]; then\n  claude -p "$X"\nfi', [{ cli: 'claude', text: 'claude' }]],
    ['while body', 'while read -r f; do claude -p "$f"; done < files.txt', [{ cli: 'claude', text: 'claude' }]],
    ['for body', 'for f in a b; do\n  codex exec "fix $f"\ndone', [{ cli: 'codex', text: 'codex exec', sub: 'exec' }]],
    ['negated', '! claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['line continuation', 'claude \\\n  -p \\\n  --dangerously-skip-permissions \\\n  "$PROMPT"', [{ cli: 'claude', text: 'claude', bypass: ['--dangerously-skip-permissions'] }]],
    ['continuation inside the command word', 'cla\\\nude -p hi', [{ cli: 'claude', text: 'cla\\\nude' }]],
    ['sudo', 'sudo -E -u runner claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['sudo with assignment', 'sudo FOO=1 claude -p hi', [{ cli: 'claude', text: 'claude', env: { FOO: '1' } }]],
    ['env wrapper', 'env -u GITHUB_TOKEN ANTHROPIC_BASE_URL=http://127.0.0.1:8080 claude -p hi', [{ cli: 'claude', text: 'claude', env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080' } }]],
    ['time', 'time claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['time -p', 'time -p claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['nohup', 'nohup claude -p hi > log 2>&1 &', [{ cli: 'claude', text: 'claude' }]],
    ['timeout N', 'timeout 600 claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['timeout with options', 'timeout --signal=KILL -k 10 15m codex exec --full-auto "fix"', [{ cli: 'codex', text: 'codex exec' }]],
    ['xargs', 'ls *.md | xargs -I {} claude -p "summarise {}"', [{ cli: 'claude', text: 'claude' }]],
    ['exec', 'exec claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['command builtin', 'command claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['npx package', 'npx -y @anthropic-ai/claude-code -p "hi"', [{ cli: 'claude', text: '@anthropic-ai/claude-code', args: ['-p', 'hi'] }]],
    ['npx package@version', 'npx --yes @anthropic-ai/claude-code@1.0.67 --dangerously-skip-permissions -p hi', [{ cli: 'claude', text: '@anthropic-ai/claude-code@1.0.67', bypass: ['--dangerously-skip-permissions'] }]],
    ['npx -p package command', 'npx -p @google/gemini-cli gemini --yolo -p hi', [{ cli: 'gemini', text: 'gemini', bypass: ['--yolo'] }]],
    ['npx cline@nightly (corpus)', "npx cline@nightly --yolo --verbose 'review'", [{ cli: 'cline', text: 'cline@nightly', bypass: ['--yolo'] }]],
    ['bunx', 'bunx @google/gemini-cli -p hi', [{ cli: 'gemini', text: '@google/gemini-cli' }]],
    ['bun x', 'bun x @openai/codex exec hi', [{ cli: 'codex', text: '@openai/codex exec', sub: 'exec' }]],
    ['pnpm dlx', 'pnpm dlx @qwen-code/qwen-code --yolo -p hi', [{ cli: 'qwen', text: '@qwen-code/qwen-code', bypass: ['--yolo'] }]],
    ['yarn dlx', 'yarn dlx @openai/codex exec --yolo hi', [{ cli: 'codex', text: '@openai/codex exec', bypass: ['--yolo'] }]],
    ['npm exec --', 'npm exec -- @anthropic-ai/claude-code -p hi', [{ cli: 'claude', text: '@anthropic-ai/claude-code' }]],
    ['npm exec --package', 'npm exec --package=@anthropic-ai/claude-code -- claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['pnpm exec local binary', 'pnpm exec claude -p hi', [{ cli: 'claude', text: 'claude' }]],
    ['uvx', 'uvx aider-chat --yes-always --message "fix"', [{ cli: 'aider', text: 'aider-chat', bypass: ['--yes-always'] }]],
    ['uvx --from', 'uvx --from aider-chat aider --message fix', [{ cli: 'aider', text: 'aider' }]],
    ['uv tool run', 'uv tool run llm -m gpt-4o "summarise"', [{ cli: 'llm', text: 'llm' }]],
    ['uv run', 'uv run aider --yes --message hi', [{ cli: 'aider', text: 'aider', bypass: ['--yes'] }]],
    ['pipx run', 'pipx run --spec aider-chat aider --message hi', [{ cli: 'aider', text: 'aider' }]],
    ['poetry run', 'poetry run llm "hello"', [{ cli: 'llm', text: 'llm' }]],
    ['python -m module', 'python -m openhands.resolver.resolve_issue --selected-repo "$REPO" --issue-number 1', [{ cli: 'openhands', text: 'python -m openhands.resolver.resolve_issue' }]],
    ['python3 -u -m aider', 'python3 -u -m aider --yes-always -m "fix"', [{ cli: 'aider', text: 'python3 -u -m aider', bypass: ['--yes-always'] }]],
    ['codex exec', 'codex exec --full-auto "Fix the failing test"', [{ cli: 'codex', text: 'codex exec', sub: 'exec' }]],
    ['codex with options before exec', 'codex -m o3 -c model_reasoning_effort=high exec --yolo "x"', [{ cli: 'codex', text: 'codex -m o3 -c model_reasoning_effort=high exec', bypass: ['--yolo'] }]],
    ['codex sandbox bypass', 'codex exec -s danger-full-access "x"', [{ cli: 'codex', text: 'codex exec', bypass: ['-s=danger-full-access'] }]],
    ['codex e alias', 'codex e "x"', [{ cli: 'codex', text: 'codex e', sub: 'e' }]],
    ['gemini yolo', 'gemini --yolo --prompt "${PROMPT}" --output-format json', [{ cli: 'gemini', text: 'gemini', bypass: ['--yolo'] }]],
    ['gemini approval-mode', 'gemini --approval-mode yolo -p hi', [{ cli: 'gemini', text: 'gemini', bypass: ['--approval-mode=yolo'] }]],
    ['qwen (action body)', 'QWEN_RESPONSE=$(qwen --yolo --prompt "$PROMPT")', [{ cli: 'qwen', text: 'qwen', bypass: ['--yolo'] }]],
    ['goose run', 'goose run --recipe /tmp/recipe.yaml', [{ cli: 'goose', text: 'goose run', sub: 'run' }]],
    ['goose with GOOSE_MODE', 'GOOSE_MODE=auto goose run -t "fix it"', [{ cli: 'goose', text: 'goose run', bypass: ['GOOSE_MODE=auto'] }]],
    ['exported GOOSE_MODE', 'export GOOSE_MODE=auto\ngoose run -t "fix it"', [{ cli: 'goose', text: 'goose run', bypass: ['GOOSE_MODE=auto'] }]],
    ['opencode run', 'opencode run -m anthropic/claude "$PROMPT"', [{ cli: 'opencode', text: 'opencode run', sub: 'run' }]],
    ['opencode github run', 'opencode github run', [{ cli: 'opencode', text: 'opencode github run', sub: 'github run' }]],
    ['cursor agent -p', 'agent -p --force "fix the build"', [{ cli: 'cursor', text: 'agent', bypass: ['--force'] }]],
    ['cursor-agent --print', 'cursor-agent --print "hi"', [{ cli: 'cursor', text: 'cursor-agent' }]],
    ['copilot', 'copilot -p "$PROMPT" --allow-tool \'shell(git:*)\' --allow-tool write', [{ cli: 'copilot', text: 'copilot', tools: ['shell(git:*)', 'write'] }]],
    ['copilot allow-all', 'copilot --allow-all-tools -p hi', [{ cli: 'copilot', text: 'copilot', bypass: ['--allow-all-tools'] }]],
    ['amp -x', 'amp -x "summarise" --dangerously-allow-all', [{ cli: 'amp', text: 'amp', bypass: ['--dangerously-allow-all'] }]],
    ['llm', 'llm -m gpt-4o-mini "Summarise: $BODY"', [{ cli: 'llm', text: 'llm' }]],
    ['crush run', 'crush run --yolo "fix"', [{ cli: 'crush', text: 'crush run', bypass: ['--yolo'] }]],
    ['continue cn -p', 'cn -p "review" --allow "*"', [{ cli: 'cn', text: 'cn', bypass: ['--allow=*'] }]],
    ['plandex tell', 'plandex tell "add tests" --full', [{ cli: 'plandex', text: 'plandex tell', bypass: ['--full'] }]],
    ['kiro-cli chat', 'kiro-cli chat --no-interactive --trust-all-tools "fix"', [{ cli: 'kiro', text: 'kiro-cli chat', bypass: ['--trust-all-tools'] }]],
    ['q chat', 'q chat --no-interactive "hi"', [{ cli: 'kiro', text: 'q chat' }]],
    ['droid exec', 'droid exec --skip-permissions-unsafe "fix"', [{ cli: 'droid', text: 'droid exec', bypass: ['--skip-permissions-unsafe'] }]],
    ['warp-cli agent run', 'warp-cli agent run --prompt "$PROMPT" --sandboxed', [{ cli: 'warp-cli', text: 'warp-cli agent run', sub: 'agent run' }]],
    ['bash -c single-quoted', "bash -c 'claude -p hi'", [{ cli: 'claude', text: 'claude' }]],
    ['sh -c double-quoted', 'sh -c "codex exec --yolo fix"', [{ cli: 'codex', text: 'codex exec', bypass: ['--yolo'] }]],
    ['bash -euo pipefail -c', "bash -euo pipefail -c 'gemini -y -p x'", [{ cli: 'gemini', text: 'gemini', bypass: ['-y'] }]],
    ['bash -c with escapes maps to the argument', "bash -c 'claude -p '\\''hi'\\'''", [{ cli: 'claude', text: "'claude -p '\\''hi'\\'''" }]],
    ['eval', 'eval "claude -p hi"', [{ cli: 'claude', text: 'claude' }]],
    ['eval of a substitution is reported once', 'eval "$(claude -p hi)"', [{ cli: 'claude', text: 'claude' }]],
    ['bash -c with a substitution the outer shell runs', 'bash -c "echo $(codex exec x)"', [{ cli: 'codex', text: 'codex exec' }]],
    ['awf wrapper (gh-aw)', "sudo -E awf --allow-domains x -- /bin/bash -c '/usr/local/bin/copilot --allow-tool github --prompt hi'", [{ cli: 'copilot', text: '/usr/local/bin/copilot', tools: ['github'] }]],
    ['bash heredoc is a script', 'bash <<EOF\nclaude -p hi\nEOF\necho done', [{ cli: 'claude', text: 'claude' }]],
    ['substitution inside an unquoted heredoc runs', 'cat > prompt.md <<EOF\nSummary: $(claude -p summarise)\nEOF', [{ cli: 'claude', text: 'claude' }]],
    ['process substitution', 'diff <(claude -p a) <(codex exec b)', [{ cli: 'claude', text: 'claude' }, { cli: 'codex', text: 'codex exec' }]],
    ['case body', 'case "$MODE" in\n  review) claude -p review ;;\n  fix|patch) codex exec fix ;;\nesac', [{ cli: 'claude', text: 'claude' }, { cli: 'codex', text: 'codex exec' }]],
    ['function body', 'run_agent() {\n  claude -p "$1"\n}\nrun_agent hi', [{ cli: 'claude', text: 'claude' }]],
    ['GitHub expression in arguments', 'claude -p "${{ github.event.issue.title }}" --model ${{ inputs.model }}', [{ cli: 'claude', text: 'claude', args: ['-p', '${{ github.event.issue.title }}', '--model', '${{ inputs.model }}'] }]],
    ['two invocations', 'claude -p a\ncodex exec b', [{ cli: 'claude', text: 'claude' }, { cli: 'codex', text: 'codex exec' }]],
    ['ansi-c quoted prompt', "claude -p $'line1\\nline2' --dangerously-skip-permissions", [{ cli: 'claude', text: 'claude', bypass: ['--dangerously-skip-permissions'] }]],
    ['comment before', '# run the agent\nclaude -p hi # trailing comment', [{ cli: 'claude', text: 'claude', args: ['-p', 'hi'] }]],
    ['redirections are not arguments', 'claude -p hi 2>&1 >out.txt </dev/null', [{ cli: 'claude', text: 'claude', args: ['-p', 'hi'] }]],
    ['prompt from a here-string', 'claude -p <<< "$PROMPT"', [{ cli: 'claude', text: 'claude', args: ['-p'] }]],
    ['multi-line quoted prompt', 'claude -p "Line one\nLine two; not a command: codex exec\n" --allowedTools Read', [{ cli: 'claude', text: 'claude', tools: ['Read'] }]],
  ];
  test.each(cases)('%s', (_name, script, expected) => check(script, expected));
});

describe('findCliInvocations: negatives', () => {
  const cases: [string, string][] = [
    ['echo argument', 'echo claude -p hi'],
    ['printf argument', 'printf "%s\\n" codex exec'],
    ['which', 'which claude'],
    ['command -v', 'command -v claude >/dev/null || npm i -g @anthropic-ai/claude-code'],
    ['type', 'type -p gemini'],
    ['version check', 'claude --version'],
    ['version check -v', 'gemini -v'],
    ['help', 'codex exec --help'],
    ['npm install', 'npm install -g @anthropic-ai/claude-code@1.0.67'],
    ['npm i', 'npm i -g @google/gemini-cli'],
    ['pip install', 'pip install -U aider-chat'],
    ['native installer', 'curl -fsSL https://claude.ai/install.sh | bash -s -- "$PINNED"'],
    ['opencode installer', 'curl -fsSL https://opencode.ai/install | bash'],
    ['claude update', 'claude update'],
    ['claude install', 'claude install stable'],
    ['claude mcp add', 'claude mcp add github -- npx -y @modelcontextprotocol/server-github'],
    ['claude config', 'claude config set -g theme dark'],
    ['codex login', 'printenv OPENAI_API_KEY | codex login --with-api-key'],
    ['codex without exec', 'codex --version'],
    ['gemini extensions install', 'echo "Y" | gemini extensions install https://github.com/x/y'],
    ['npx cline auth (corpus)', 'npx cline@nightly auth --provider cline --apikey "$KEY" --modelid anthropic/claude-opus-4.6'],
    ['goose configure', 'goose configure'],
    ['goose session', 'goose session'],
    ['opencode github install', 'opencode github install'],
    ['opencode TUI', 'opencode'],
    ['cursor agent without -p', 'agent login'],
    ['unrelated agent command', 'ssh-agent -s'],
    ['q without chat', 'q --version'],
    ['copilot login', 'copilot login'],
    ['llm keys set', 'llm keys set openai'],
    ['llm install plugin', 'llm install llm-anthropic'],
    ['aider version', 'aider --version'],
    ['crush without run', 'crush --help'],
    ['droid without exec', 'droid --version'],
    ['single-quoted text', "echo 'claude -p hi; codex exec x'"],
    ['double-quoted text', 'MSG="run claude -p now"'],
    ['comment', '# claude -p "hi"'],
    ['quoted heredoc body', "cat <<'EOF' > prompt.md\nclaude -p $(codex exec x)\nEOF"],
    ['unquoted heredoc plain text', 'cat <<EOF\nclaude -p hi\nEOF'],
    ['dash heredoc', 'cat <<-EOF\n\tclaude -p hi\n\tEOF\necho ok'],
    ['for loop words', 'for c in claude codex gemini; do echo "$c"; done'],
    ['case patterns', 'case "$AGENT" in\n  claude) echo one ;;\n  codex) echo two ;;\nesac'],
    ['test expression', '[[ "$x" == claude && -n "$y" ]] && echo yes'],
    ['arithmetic', '(( claude = 1 + 2 ))'],
    ['assignment only', 'AGENT=claude'],
    ['python module not an agent', 'python -m openhands.resolver.send_pull_request --issue-number 1'],
    ['python -c', 'python -c "import claude"'],
    ['script file', 'bash ./scripts/claude-triage-pr.sh'],
    ['path to a different tool', './claude-review --pr 1'],
    ['GitHub expression only', '${{ steps.claude.outputs.response }}'],
    ['docker run is not looked through', 'docker run --rm ghcr.io/x/claude:latest'],
    ['gh-aw validator script', "/opt/gh-aw/actions/validate_multi_secret.sh COPILOT_GITHUB_TOKEN 'GitHub Copilot CLI' https://example.com"],
    ['unbalanced input', 'echo "unterminated $(claude'],
  ];
  test.each(cases)('%s', (_name, script) => {
    const found = findCliInvocations(script);
    const detail = summarise(script, found);
    if (_name === 'unbalanced input') {
      // The shell would reject this; we only require no crash and sane offsets.
      for (const d of detail) expect(script.includes(d.text)).toBe(true);
      return;
    }
    expect(detail).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Real workflows from ../shared/corpus

const CORPUS = path.resolve(__dirname, '../../../shared/corpus');
const haveCorpus = fs.existsSync(CORPUS);
const corpusTest = haveCorpus ? test : test.skip;

interface RunStep {
  file: string;
  job: string;
  name: string;
  run: string;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (/\.ya?ml$/.test(entry.name)) out.push(p);
  }
  return out;
}

function runSteps(): RunStep[] {
  const steps: RunStep[] = [];
  for (const file of walk(CORPUS)) {
    let doc: unknown;
    try {
      doc = parseDocument(fs.readFileSync(file, 'utf8')).toJS();
    } catch {
      continue;
    }
    const jobs = (doc as { jobs?: Record<string, { steps?: unknown[] }> })?.jobs ?? {};
    for (const [job, body] of Object.entries(jobs)) {
      for (const s of body?.steps ?? []) {
        const step = s as { run?: unknown; name?: unknown };
        if (typeof step?.run === 'string') steps.push({ file: path.relative(CORPUS, file), job, name: String(step.name ?? ''), run: step.run });
      }
    }
  }
  return steps;
}

describe('real-world run: scripts', () => {
  const steps = haveCorpus ? runSteps() : [];
  const find = (fileFragment: string, stepName: string) => {
    const s = steps.find((x) => x.file.includes(fileFragment) && x.name === stepName);
    if (!s) throw new Error(`corpus step not found: ${fileFragment} / ${stepName}`);
    return s;
  };

  corpusTest('the corpus has run: steps to read', () => {
    expect(steps.length).toBeGreaterThan(300);
  });

  corpusTest('opencode issue triage runs `opencode run` twice, with OPENCODE_PERMISSION restricting bash', () => {
    for (const name of ['Triage', 'Investigation']) {
      const s = find('ChapterMaster__opencode_issue_triage', name);
      const invs = findCliInvocations(s.run);
      expect(invs.map((i) => [i.cli.id, s.run.slice(i.start, i.end)])).toEqual([['opencode', 'opencode run']]);
      expect(invs[0].bypass).toEqual([]);
      // The step env restricts bash to an allowlist.
      expect(cliToolReach(invs[0], { OPENCODE_PERMISSION: '{ "bash": { "*": "deny", "gh issue view *": "allow" } }' }).shell).toBe('restricted');
    }
  });

  corpusTest('aider with --yes-always and a message file', () => {
    for (const file of ['realworld/zachmayer__caretEnsemble__aider@04b722dc', 'pairs/zachmayer__caretEnsemble__aider.BEFORE']) {
      const s = find(file, 'Run Aider');
      const invs = findCliInvocations(s.run);
      expect(invs).toHaveLength(1);
      expect(invs[0].cli.id).toBe('aider');
      expect(invs[0].bypass).toEqual(['--yes-always']);
      expect(invs[0].args).toContain('--message-file');
      expect(cliToolReach(invs[0]).shell).toBe('full');
    }
  });

  corpusTest('aider install step is not a run', () => {
    expect(findCliInvocations(find('caretEnsemble__aider@04b722dc', 'Install Aider').run)).toEqual([]);
  });

  corpusTest('goose run --recipe after an envsubst pipeline', () => {
    const s = find('block__goose__goose-issue-solver', 'Run goose');
    const invs = findCliInvocations(s.run);
    expect(invs.map((i) => [i.cli.id, i.subcommand, s.run.slice(i.start, i.end)])).toEqual([['goose', 'run', 'goose run']]);
    expect(s.run.slice(invs[0].start).startsWith('goose run --recipe /tmp/recipe.yaml')).toBe(true);
  });

  corpusTest('cline: auth step is not a run, the review step is a --yolo run with a 7 KB prompt', () => {
    expect(findCliInvocations(find('cline__cline__cline-pr-review', 'Configure Cline with Cline Provider').run)).toEqual([]);
    const s = find('cline__cline__cline-pr-review', 'Review PR with Cline');
    const invs = findCliInvocations(s.run);
    expect(invs).toHaveLength(1);
    expect(invs[0].cli.id).toBe('cline');
    expect(invs[0].bypass).toEqual(['--yolo']);
    // The prompt is one argument even though it contains ``` blocks, `gh` commands, `|` and `;`.
    expect(invs[0].args.length).toBe(3);
    expect(invs[0].args[2]).toContain('gh pr view');
  });

  corpusTest('pinned Claude Code install step only checks the version', () => {
    expect(findCliInvocations(find('marvin-label-triage', 'Install pinned Claude Code').run)).toEqual([]);
  });

  corpusTest('toasty installs claude and runs it from a script file (not visible here)', () => {
    expect(findCliInvocations(find('tokio-rs__toasty__claude-triage.yml', 'Install Claude CLI and sandbox dependencies').run)).toEqual([]);
    expect(findCliInvocations(find('tokio-rs__toasty__claude-triage.yml', 'Run triage').run)).toEqual([]);
  });

  corpusTest('gh-aw: Copilot CLI inside awf and bash -c, and directly', () => {
    const inAwf = steps.filter((x) => x.file.includes('daily-doc-updater.lock') && x.name === 'Execute GitHub Copilot CLI');
    expect(inAwf.length).toBe(2);
    const all = inAwf.flatMap((x) => findCliInvocations(x.run).map((i) => ({ i, x })));
    expect(all.map(({ i }) => i.cli.id)).toEqual(['copilot', 'copilot']);
    const nested = all.find(({ x }) => x.run.includes('awf'))!;
    // Inside `bash -c '...'` with '\'' escapes: reported at the argument.
    expect(nested.x.run.slice(nested.i.start, nested.i.end).startsWith("'/usr/local/bin/copilot")).toBe(true);
    expect(nested.i.tools).toEqual(expect.arrayContaining(['github', 'safeoutputs', 'shell(cat)', 'write']));
    expect(cliToolReach(nested.i)).toEqual({ shell: 'restricted', network: true, writesFiles: true });
    const direct = all.find(({ x }) => !x.run.includes('awf'))!;
    expect(direct.x.run.slice(direct.i.start, direct.i.end)).toBe('copilot');
    expect(cliToolReach(direct.i)).toEqual({ shell: 'restricted', network: false, writesFiles: false });
  });

  corpusTest('no agent is reported in scripts that only mention agents in text, paths or outputs', () => {
    const noisy = steps.filter((x) => /claude|gemini|codex|copilot|qwen/i.test(x.run));
    let reported = 0;
    for (const x of noisy) {
      for (const inv of findCliInvocations(x.run)) {
        reported++;
        // Every report points at a word that names the agent (command, package or module).
        const text = x.run.slice(inv.start, inv.end);
        const names = [...inv.cli.commands, ...(inv.cli.packages ?? []), ...(inv.cli.modules ?? [])];
        expect(names.some((n) => text.includes(n))).toBe(true);
      }
    }
    expect(noisy.length).toBeGreaterThan(30);
    expect(reported).toBeLessThan(20);
  });

  corpusTest('every run: script in the corpus is read quickly', () => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 5; k++) for (const s of steps) findCliInvocations(s.run);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeLessThan(2000);
  });
});

// ---------------------------------------------------------------------------------------------------
// Tool reach from flags and env

describe('cliToolReach', () => {
  const reach = (script: string, env: Record<string, string> = {}) => {
    const [inv] = findCliInvocations(script);
    if (!inv) throw new Error(`no invocation in ${script}`);
    return cliToolReach(inv, env);
  };
  test.each([
    ['claude -p hi', { shell: 'none', network: false, writesFiles: false }],
    ['claude -p hi --allowedTools "Bash"', { shell: 'full', network: false, writesFiles: false }],
    ['claude -p hi --allowedTools "Bash(*)"', { shell: 'full', network: false, writesFiles: false }],
    ['claude -p hi --allowedTools "Bash(gh issue view:*),Read"', { shell: 'restricted', network: false, writesFiles: false }],
    ['claude -p hi --allowedTools "Bash(bash scripts/x.sh:*)"', { shell: 'full', network: false, writesFiles: false }],
    ['claude -p hi --allowed-tools "Read,Edit,WebFetch"', { shell: 'none', network: true, writesFiles: true }],
    ['claude -p hi --allowedTools Bash --disallowedTools Bash', { shell: 'none', network: false, writesFiles: false }],
    ['claude -p hi --mcp-config mcp.json', { shell: 'none', network: true, writesFiles: false }],
    ['claude -p hi --permission-mode acceptEdits', { shell: 'none', network: false, writesFiles: true }],
    ['claude -p hi --dangerously-skip-permissions --disallowedTools Bash', { shell: 'full', network: true, writesFiles: true }],
    ['codex exec hi', { shell: 'full', network: false, writesFiles: false }],
    ['codex exec --full-auto hi', { shell: 'full', network: false, writesFiles: true }],
    ['codex exec -c sandbox_workspace_write.network_access=true --sandbox workspace-write hi', { shell: 'full', network: true, writesFiles: true }],
    ['codex exec --yolo hi', { shell: 'full', network: true, writesFiles: true }],
    ['gemini -p hi', { shell: 'none', network: false, writesFiles: false }],
    ['gemini -p hi --allowed-tools "run_shell_command(git)"', { shell: 'restricted', network: false, writesFiles: false }],
    ['gemini -p hi --yolo', { shell: 'full', network: true, writesFiles: true }],
    ['copilot -p hi --allow-tool shell', { shell: 'full', network: false, writesFiles: false }],
    ['copilot -p hi --allow-tool shell --deny-tool shell', { shell: 'none', network: false, writesFiles: false }],
  ] as const)('%s', (script, expected) => {
    expect(reach(script)).toEqual(expected);
  });

  test('bypass env comes from the step env too', () => {
    expect(reach('goose run -t hi', { GOOSE_MODE: 'chat' }).shell).toBe('none');
    expect(reach('goose run -t hi', { GOOSE_MODE: 'auto' }).shell).toBe('full');
    expect(reach('copilot -p hi', { COPILOT_ALLOW_ALL: 'true' }).shell).toBe('full');
  });

  test('the invocation’s own assignment beats the step env', () => {
    expect(reach('GOOSE_MODE=chat goose run -t hi', { GOOSE_MODE: 'auto' }).shell).toBe('none');
    expect(reach('GOOSE_MODE=auto goose run -t hi', { GOOSE_MODE: 'chat' }).shell).toBe('full');
  });
});

// ---------------------------------------------------------------------------------------------------
// Action helpers over the shipped data

describe('action helpers', () => {
  const claude = matchAgentAction('anthropics/claude-code-action@v1')!;
  const base = matchAgentAction('anthropics/claude-code-base-action@beta')!;
  const gemini = matchAgentAction('google-github-actions/run-gemini-cli@v0')!;
  const codex = matchAgentAction('openai/codex-action@v1')!;

  test.each([
    [{}, { shell: 'none', network: false, writesFiles: true }],
    [{ claude_args: '--allowedTools "Bash(gh issue view:*),Bash(gh search:*)"' }, { shell: 'restricted', network: false, writesFiles: true }],
    [{ claude_args: '--allowedTools Bash,Read' }, { shell: 'full', network: false, writesFiles: true }],
    [{ claude_args: '--allowed-tools "Read,Bash(*)"' }, { shell: 'full', network: false, writesFiles: true }],
    [{ claude_args: '--allowedTools "Bash(bash scripts/run.sh:*)"' }, { shell: 'full', network: false, writesFiles: true }],
    [{ claude_args: '--model opus --allowedTools "Read" --disallowedTools Bash' }, { shell: 'none', network: false, writesFiles: true }],
    [{ claude_args: '--allowedTools "Read" --append-system-prompt "use Bash carefully"' }, { shell: 'none', network: false, writesFiles: true }],
    [{ claude_args: '--allowedTools Read,WebFetch,WebSearch' }, { shell: 'none', network: true, writesFiles: true }],
    [{ claude_args: '--mcp-config /tmp/mcp.json' }, { shell: 'none', network: true, writesFiles: true }],
    [{ claude_args: '--permission-mode bypassPermissions' }, { shell: 'full', network: true, writesFiles: true }],
    [{ claude_args: '--permission-mode dontAsk' }, { shell: 'none', network: false, writesFiles: true }],
    [{ claude_args: '--dangerously-skip-permissions' }, { shell: 'full', network: true, writesFiles: true }],
    [{ settings: '{"permissions": {"allow": ["Bash"]}}' }, { shell: 'full', network: false, writesFiles: true }],
    [{ settings: '{"permissions": {"allow": ["Bash(npm test)"], "deny": []}}' }, { shell: 'restricted', network: false, writesFiles: true }],
    [{ settings: '{"permissions": {"defaultMode": "bypassPermissions"}}' }, { shell: 'full', network: true, writesFiles: true }],
    [{ allowed_tools: 'Bash(git diff:*),View' }, { shell: 'restricted', network: false, writesFiles: true }],
    [{ allowed_tools: 'Bash' }, { shell: 'full', network: false, writesFiles: true }],
  ])('claude-code-action %j', (inputs, expected) => {
    expect(actionToolReach(claude, inputs as Record<string, string>)).toEqual(expected);
  });

  test('claude-code-base-action is read-only by default', () => {
    expect(actionToolReach(base, {})).toEqual({ shell: 'none', network: false, writesFiles: false });
    expect(actionToolReach(base, { allowed_tools: 'Bash(gh issue:*),Edit' })).toEqual({ shell: 'restricted', network: false, writesFiles: true });
  });

  test.each([
    [{}, 'full'],
    [{ settings: '{"coreTools": ["run_shell_command(echo)", "run_shell_command(gh label list)"]}' }, 'restricted'],
    [{ settings: '{"tools": {"core": ["read_file", "glob"]}}' }, 'none'],
    [{ settings: '{"coreTools": ["run_shell_command"], "sandbox": false}' }, 'full'],
    [{ settings: '{"coreTools": ["run_shell_command", "run_shell_command(echo)"]}' }, 'full'],
    [{ settings: '{"excludeTools": ["run_shell_command"]}' }, 'none'],
    [{ settings: '{"mcpServers": {"github": {}}}' }, 'full'],
  ])('run-gemini-cli %j → shell %s', (inputs, shell) => {
    expect(actionToolReach(gemini, inputs as Record<string, string>).shell).toBe(shell);
  });

  test('qwen-code-action reads the early settings_json input, case-insensitively named inputs too', () => {
    const qwen = matchAgentAction('QwenLM/qwen-code-action@v1')!;
    expect(actionToolReach(qwen, { settings_json: '{"coreTools": ["run_shell_command"], "sandbox": false}' }).shell).toBe('full');
    expect(actionToolReach(qwen, { SETTINGS_JSON: '{"coreTools": ["read_file"]}' }).shell).toBe('none');
  });

  test('codex-action: sandboxed shell, proxy key unless the safety strategy gives sudo back', () => {
    expect(actionToolReach(codex, {})).toEqual({ shell: 'full', network: false, writesFiles: true });
    expect(actionToolReach(codex, { sandbox: 'danger-full-access' }).network).toBe(true);
    expect(actionToolReach(codex, { 'codex-args': '["--sandbox","danger-full-access"]' }).network).toBe(true);
    expect(actionToolReach(codex, { 'codex-args': '--yolo' }).network).toBe(true);
    expect(actionToolReach(codex, { sandbox: 'read-only' }).writesFiles).toBe(false);
    expect(actionKeyInProcess(codex, {})).toBe(false);
    expect(actionKeyInProcess(codex, { 'safety-strategy': 'drop-sudo' })).toBe(false);
    expect(actionKeyInProcess(codex, { 'safety-strategy': 'unsafe' })).toBe(true);
    expect(actionKeyInProcess(codex, { openai_api_key: '${{ secrets.KEY }}' })).toBe(true);
    expect(actionKeyInProcess(claude, {})).toBe(true);
  });

  test('thread reading: tag mode without the v1 prompt; v0 direct_prompt still reads the thread', () => {
    expect(actionReadsThread(claude, {})).toBe(true);
    expect(actionReadsThread(claude, { prompt: 'Review ${{ github.event.pull_request.number }}' })).toBe(false);
    expect(actionReadsThread(claude, { prompt: '   ' })).toBe(true);
    expect(actionReadsThread(claude, { direct_prompt: 'Review this' })).toBe(true);
    expect(actionReadsThread(gemini, {})).toBe(false);
    expect(actionReadsThread(matchAgentAction('qodo-ai/pr-agent@main')!, {})).toBe(true);
  });

  test('every action that names a CLI names an existing one', () => {
    for (const uses of ['anthropics/claude-code-action@v1', 'openai/codex-action@v1', 'Factory-AI/droid-action@v1', 'warpdotdev/oz-agent-action@v1']) {
      const a = matchAgentAction(uses)!;
      expect(cliById(a.cli!)).toBeDefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Linear time on hostile input

describe('performance', () => {
  const time = (script: string) => {
    const t0 = process.hrtime.bigint();
    findCliInvocations(script);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  test.each([
    ['unclosed substitutions', '$('.repeat(20000)],
    ['unclosed quotes', '"a\'b'.repeat(20000)],
    ['many heredocs', 'cat <<EOF\n'.repeat(5000) + 'x\n'],
    ['deep nesting', 'echo "$(echo "$(echo '.repeat(3000) + 'claude -p x' + ')")'.repeat(3000)],
    ['long pipeline', 'claude -p x | '.repeat(10000) + 'cat'],
    ['many words', 'echo ' + 'word '.repeat(100000)],
    ['backslashes', '\\'.repeat(100001)],
    ['brace expansions', '${'.repeat(20000)],
    ['case soup', 'case x in '.repeat(5000) + 'a) b;; esac'.repeat(5000)],
    ['bash -c nesting', "bash -c 'bash -c \"bash -c claude\"' ".repeat(2000)],
  ])('%s', (_name, script) => {
    expect(time(script)).toBeLessThan(1500);
  });

  test('scales linearly', () => {
    const unit = 'if [ -n "$X" ]; then\n  OUT=$(claude -p "$(cat prompt.md)" --allowedTools "Bash(git:*)" | tee log)\nfi\n';
    time(unit.repeat(100)); // warm up
    const small = time(unit.repeat(2000));
    const large = time(unit.repeat(20000));
    expect(large).toBeLessThan(Math.max(small, 5) * 30);
  });
});
