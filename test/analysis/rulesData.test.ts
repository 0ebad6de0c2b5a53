import agentsText from '../../rules/agents.yml';
import sourcesText from '../../rules/sources.yml';
import triggersText from '../../rules/triggers.yml';
import {
  PROVIDER_IDS,
  RuleDataError,
  loadRules,
  parseAgentsFile,
  parseRuleSet,
  parseSourcesFile,
  parseTriggersFile,
  regexProblem,
} from '../../src/analysis/rulesData';

const rules = loadRules();
const { agents, sources, triggers } = rules;
const action = (id: string) => {
  const a = agents.actions.find((x) => x.id === id);
  if (!a) throw new Error(`no action ${id}`);
  return a;
};
const cli = (id: string) => {
  const c = agents.clis.find((x) => x.id === id);
  if (!c) throw new Error(`no cli ${id}`);
  return c;
};

// ---------------------------------------------------------------------------------------------------

describe('shipped rules', () => {
  test('load, and loadRules is memoised', () => {
    expect(loadRules()).toBe(rules);
    expect(agents.actions.length).toBeGreaterThanOrEqual(30);
    expect(agents.clis.length).toBeGreaterThanOrEqual(18);
    expect(sources.contexts.length).toBeGreaterThanOrEqual(50);
    expect(sources.wholeObjects.length).toBeGreaterThanOrEqual(11);
    expect(triggers.triggers.length).toBeGreaterThanOrEqual(35);
  });

  test('parse again from the raw text with the same result', () => {
    expect(parseRuleSet({ agents: agentsText, sources: sourcesText, triggers: triggersText })).toEqual(rules);
  });

  test('cover every agent action of the catalogue and CodeQL’s sink list', () => {
    const ids = agents.actions.map((a) => a.id);
    for (const id of [
      'claude-code-action', 'claude-code-base-action', 'claude-code-security-review', 'codex-action', 'run-gemini-cli',
      'qwen-code-action', 'ai-inference', 'opencode-github', 'droid-action', 'warp-agent-action', 'oz-agent-action',
      'aider-github-action', 'goose-action', 'pr-agent', 'coderabbit-ai-pr-reviewer', 'openhands-resolver',
      'ai-moderator', 'gemini-code-assist-action', 'openai-chat-completion-action', 'opencommit', 'openai-pr-description',
      'copilot-text-inference', 'huggingface-inference-action', 'replicate-action', 'rubberduck-review-action',
    ]) expect(ids).toContain(id);
    const prefixes = agents.actions.flatMap((a) => a.uses.map((u) => u.toLowerCase()));
    for (const u of ['anthropics/claude-code-action/base-action', 'sst/opencode/github', 'anomalyco/opencode/github', 'codium-ai/pr-agent', 'the-pr-agent/pr-agent', 'google-gemini/code-assist-action']) {
      expect(prefixes).toContain(u);
    }
  });

  test('cover every CLI of the catalogue', () => {
    const commands = agents.clis.flatMap((c) => c.commands);
    for (const c of ['claude', 'codex', 'gemini', 'qwen', 'aider', 'goose', 'opencode', 'agent', 'cursor-agent', 'copilot', 'amp', 'llm', 'crush', 'cn', 'plandex', 'kiro-cli', 'q', 'cline', 'droid']) {
      expect(commands).toContain(c);
    }
    expect(cli('openhands').modules).toContain('openhands.resolver.resolve_issue');
  });

  test('every action CLI link resolves and every provider id is known', () => {
    const cliIds = new Set(agents.clis.map((c) => c.id));
    for (const a of agents.actions) if (a.cli) expect(cliIds).toContain(a.cli);
    for (const x of [...agents.actions, ...agents.clis]) if (x.provider) expect(PROVIDER_IDS).toContain(x.provider);
    expect(cli('claude').provider).toBe('anthropic');
    expect(cli('codex').provider).toBe('openai');
    expect(cli('gemini').provider).toBe('gemini');
    expect(action('ai-inference').provider).toBe('github-models');
  });

  test('keep catalogue facts: gates, wideners, defaults, key handling', () => {
    const claude = action('claude-code-action');
    expect(claude.gate.kind).toBe('write-access');
    expect(claude.gate.skippedOn).toEqual(expect.arrayContaining(['workflow_dispatch', 'repository_dispatch', 'schedule']));
    expect(claude.gate.wideners).toEqual(expect.arrayContaining([
      { input: 'allowed_non_write_users', effect: 'anyone', requiresInput: 'github_token' },
      { input: 'allowed_bots', effect: 'bots' },
    ]));
    expect(claude.promptInputs).toEqual(expect.arrayContaining(['prompt', 'direct_prompt', 'override_prompt', 'custom_instructions']));
    expect(claude.readsThread).toBe('without-prompt');
    expect(claude.defaults.shell).toBe('none');
    expect(claude.outputs).toEqual(expect.arrayContaining(['execution_file', 'structured_output']));
    expect(claude.leakInputs).toEqual(expect.arrayContaining(['show_full_output', 'display_report']));

    const codex = action('codex-action');
    expect(codex.keyHandling).toBe('proxy');
    expect(codex.gate.skippedOn ?? []).toEqual([]);
    expect(codex.gate.wideners?.map((w) => w.input)).toEqual(expect.arrayContaining(['allow-users', 'allow-bots', 'allow-bot-users', 'require_repo_write']));
    expect(codex.gate.wideners?.find((w) => w.input === 'require_repo_write')?.enablingValues).toEqual(['false']);
    expect(codex.outputs).toEqual(['final-message']);

    for (const id of ['run-gemini-cli', 'qwen-code-action', 'droid-action']) expect(action(id).defaults.shell).toBe('full');
    for (const id of ['claude-code-base-action', 'run-gemini-cli', 'qwen-code-action', 'ai-inference', 'warp-agent-action', 'pr-agent']) {
      expect(action(id).gate.kind).toBe('none');
    }
    expect(action('run-gemini-cli').outputs).toEqual(['summary', 'error']);
    expect(action('run-gemini-cli').leakInputs).toEqual(expect.arrayContaining(['gemini_debug', 'upload_artifacts']));
    expect(action('ai-inference').outputs).toEqual(['response', 'response-file']);
    expect(action('opencode-github').gate.skippedOn).toEqual(['schedule', 'workflow_dispatch']);
  });

  test('keep catalogue facts: CLI bypass flags, env and instruction files', () => {
    expect(cli('claude').bypassFlags).toEqual(expect.arrayContaining(['--dangerously-skip-permissions', '--permission-mode=bypassPermissions']));
    expect(cli('codex').bypassFlags).toEqual(expect.arrayContaining(['--dangerously-bypass-approvals-and-sandbox', '--yolo']));
    expect(cli('codex').subcommands).toContain('exec');
    expect(cli('gemini').bypassFlags).toEqual(expect.arrayContaining(['--yolo', '-y']));
    expect(cli('goose').bypassEnv).toEqual([{ name: 'GOOSE_MODE', values: ['auto'] }]);
    expect(cli('cursor').requiredFlags).toEqual(['-p', '--print']);
    const files = agents.clis.flatMap((c) => c.instructionFiles);
    for (const f of ['CLAUDE.md', 'CLAUDE.local.md', '.claude/', '.mcp.json', 'AGENTS.md', 'AGENTS.override.md', '.codex/', 'GEMINI.md', '.gemini/', 'opencode.json', '.opencode/', '.crushrc', 'crush.json', '.aider.conf.yml', '.env', '.cursor/', '.cursorrules', '.goosehints', '.github/copilot-instructions.md']) {
      expect(files).toContain(f);
    }
  });

  test('every confidence tag is one of the catalogue’s', () => {
    for (const x of [...agents.actions, ...agents.clis]) expect(['V', 'D', '3P', 'U', undefined]).toContain(x.confidence);
  });

  test('every pattern is safe on hostile input', () => {
    const patterns = [
      ...agents.actions.flatMap((a) => [...(a.toolWideners ?? []), ...(a.toolNarrowers ?? []), ...(a.keyWideners ?? [])].map((w) => w.pattern)),
      ...agents.clis.flatMap((c) => [...(c.toolWideners ?? []), ...(c.toolNarrowers ?? [])].map((w) => w.pattern)),
      ...(agents.apis ?? []).flatMap((a) => a.markers ?? []),
      ...(sources.promptReads ?? []).map((r) => r.pattern),
    ];
    expect(patterns.length).toBeGreaterThan(60);
    const hostile = [
      '--allowedTools ' + 'Bash('.repeat(5000),
      '--allowed-tools "' + 'a,'.repeat(20000),
      '{"allow": [' + '"Bash(x)",'.repeat(5000),
      '{"coreTools": [' + '"run_shell_command(echo)",'.repeat(5000),
      ' '.repeat(50000) + '-',
      '"'.repeat(50000),
      'sandbox_mode = '.repeat(5000),
      'review all '.repeat(5000) + 'issues',
      '--add-assignee '.repeat(5000),
    ];
    const t0 = Date.now();
    for (const p of patterns) {
      const re = new RegExp(p, 'i');
      for (const h of hostile) re.test(h);
    }
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('sources', () => {
  const paths = new Set(sources.contexts.map((c) => c.path));

  test('include the classic outsider fields', () => {
    for (const p of [
      'github.event.issue.title', 'github.event.issue.body', 'github.event.pull_request.title', 'github.event.pull_request.body',
      'github.event.comment.body', 'github.event.review.body', 'github.event.discussion.title', 'github.event.discussion.body',
      'github.event.pull_request.head.ref', 'github.event.pull_request.head.label', 'github.head_ref',
      'github.event.pull_request.head.repo.description', 'github.event.pull_request.head.repo.homepage',
      'github.event.commits.*.message', 'github.event.commits.*.author.name', 'github.event.commits.*.author.email',
      'github.event.head_commit.message', 'github.event.workflow_run.head_branch', 'github.event.workflow_run.display_title',
      'github.event.workflow_run.head_commit.message', 'github.event.workflow_run.pull_requests.*.head.ref',
      'github.event.pages.*.page_name', 'github.event.changes.title.from', 'github.event.changes.body.from',
      'github.event.client_payload',
    ]) expect(paths).toContain(p);
  });

  test('leave out maintainer-controlled and charset-restricted fields', () => {
    for (const p of ['github.event.label.name', 'github.event.issue.labels.*.name', 'github.event.merge_group.head_ref', 'github.event.issue.user.login', 'github.event.pull_request.head.repo.full_name']) {
      expect(paths).not.toContain(p);
    }
    expect(sourcesText).toMatch(/outsiders cannot create or apply labels/);
  });

  test('tag authors and events', () => {
    const get = (p: string, e?: string) => sources.contexts.find((c) => c.path === p && (!e || c.events?.includes(e)));
    expect(get('github.event.issue.title')?.author).toBe('issue');
    expect(get('github.event.comment.body')?.author).toBe('comment');
    expect(get('github.event.comment.body')?.events).toEqual(expect.arrayContaining(['issue_comment', 'pull_request_review_comment', 'discussion_comment']));
    expect(get('github.event.client_payload')?.author).toBe('payload');
    expect(get('github.event.changes.body.from', 'issue_comment')?.author).toBe('comment');
    expect(get('github.event.changes.body.from', 'issues')?.author).toBe('issue');
    const whole = sources.wholeObjects.map((w) => w.path);
    for (const p of ['github', 'github.event', 'github.event.issue', 'github.event.pull_request', 'github.event.comment', 'github.event.review', 'github.event.discussion', 'github.event.commits', 'github.event.head_commit', 'github.event.workflow_run', 'github.event.client_payload']) {
      expect(whole).toContain(p);
    }
  });
});

describe('triggers', () => {
  const t = (e: string) => {
    const r = triggers.triggers.find((x) => x.event === e);
    if (!r) throw new Error(`no trigger ${e}`);
    return r;
  };
  test('who can fire what', () => {
    expect(t('issues').who).toBe('anyone');
    expect(t('issue_comment').who).toBe('anyone');
    expect(t('pull_request_target').who).toBe('anyone');
    expect(t('pull_request').who).toBe('anyone-unprivileged');
    expect(t('discussion').who).toBe('anyone');
    expect(t('push').who).toBe('maintainers');
    expect(t('workflow_dispatch').who).toBe('maintainers');
    expect(t('schedule').who).toBe('maintainers');
    expect(t('workflow_call').who).toBe('callers');
    expect(t('workflow_run').who).toBe('upstream');
  });
  test('maintainer-only activity types', () => {
    expect(t('issues').maintainerOnlyTypes).toEqual(expect.arrayContaining(['labeled', 'assigned', 'milestoned', 'pinned', 'transferred', 'locked']));
    for (const authorType of ['opened', 'edited', 'closed', 'reopened']) expect(t('issues').maintainerOnlyTypes).not.toContain(authorType);
    expect(t('pull_request_target').maintainerOnlyTypes).toEqual(expect.arrayContaining(['labeled', 'unlabeled', 'assigned', 'review_requested']));
    for (const authorType of ['opened', 'edited', 'synchronize', 'reopened', 'ready_for_review']) expect(t('pull_request_target').maintainerOnlyTypes).not.toContain(authorType);
    expect(t('issue_comment').maintainerOnlyTypes).toBeUndefined();
  });
  test('list every event used elsewhere', () => {
    const known = new Set(triggers.triggers.map((x) => x.event));
    for (const c of [...sources.contexts, ...sources.wholeObjects]) for (const e of c.events ?? []) expect(known).toContain(e);
    for (const a of agents.actions) for (const e of a.gate.skippedOn ?? []) expect(known).toContain(e);
  });
});

// ---------------------------------------------------------------------------------------------------
// Broken data: one line, file:line:column, and what is wrong.

const okCli = `  - id: x
    name: X
    commands: [x]
    bypassFlags: []
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: []
    instructionFiles: []
`;
const okAction = `  - id: a
    name: A
    uses: [o/r]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
`;

function errorOf(fn: () => unknown): RuleDataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RuleDataError) return e;
    throw e;
  }
  throw new Error('expected a RuleDataError');
}

describe('broken data', () => {
  test('a valid minimal file parses', () => {
    expect(parseAgentsFile(`actions:\n${okAction}clis:\n${okCli}`).actions[0].id).toBe('a');
  });

  const agentCases: [string, string, number, RegExp][] = [
    ['unknown key', `actions:\n${okAction}    promt: [x]\nclis:\n${okCli}`, 10, /actions\[0\] \(a\): unknown key "promt"/],
    ['missing required key', `actions:\n${okAction.replace('    keyHandling: process\n', '')}clis:\n${okCli}`, 2, /actions\[0\] \(a\): missing required key "keyHandling"/],
    ['bad enum', `actions:\n${okAction.replace('kind: none', 'kind: writer')}clis:\n${okCli}`, 7, /actions\[0\] \(a\)\.gate\.kind: expected one of "none", "write-access"; got "writer"/],
    ['string instead of list', `actions:\n${okAction.replace('promptInputs: [prompt]', 'promptInputs: prompt')}clis:\n${okCli}`, 5, /promptInputs: expected a list, got "prompt"/],
    ['string instead of boolean', `actions:\n${okAction.replace('network: false', 'network: "no"')}clis:\n${okCli}`, 9, /defaults\.network: expected true or false, got "no"/],
    ['invalid regex', `actions:\n${okAction}    toolWideners:\n      - { input: x, pattern: 'a(b', grants: { shell: full } }\nclis:\n${okCli}`, 11, /toolWideners\[0\] \(x\)\.pattern: invalid regular expression \/a\(b\//],
    ['nested quantifier', `actions:\n${okAction}    toolWideners:\n      - { input: x, pattern: '(a+)+$', grants: { shell: full } }\nclis:\n${okCli}`, 11, /catastrophic backtracking/],
    ['empty grants', `actions:\n${okAction}    toolWideners:\n      - { input: x, pattern: 'a', grants: {} }\nclis:\n${okCli}`, 11, /grants: must set at least one field/],
    ['duplicate id', `actions:\n${okAction}${okAction.replace('[o/r]', '[o/s]')}clis:\n${okCli}`, 10, /duplicate id "a"/],
    ['duplicate uses prefix', `actions:\n${okAction}${okAction.replace('id: a', 'id: b').replace('[o/r]', '[O/R]')}clis:\n${okCli}`, 12, /"O\/R" is already listed by "a"/],
    ['uses with a ref', `actions:\n${okAction.replace('[o/r]', '[o/r@v1]')}clis:\n${okCli}`, 4, /"o\/r@v1" is not `owner\/repo`/],
    ['unknown cli link', `actions:\n${okAction}    cli: nope\nclis:\n${okCli}`, 10, /actions\[0\] \(a\)\.cli: unknown cli "nope"/],
    ['bad provider', `actions:\n${okAction}    provider: openia\nclis:\n${okCli}`, 10, /provider: expected one of "anthropic"/],
    ['bad confidence', `actions:\n${okAction}    confidence: maybe\nclis:\n${okCli}`, 10, /confidence: expected one of "V", "D", "3P", "U"/],
    ['duplicate list entry', `actions:\n${okAction.replace('[prompt]', '[prompt, prompt]')}clis:\n${okCli}`, 5, /promptInputs\[1\]: duplicate entry "prompt"/],
    ['bad flag', `actions:\n${okAction}clis:\n${okCli.replace('bypassFlags: []', 'bypassFlags: [yolo]')}`, 14, /bypassFlags\[0\]: "yolo" is not a flag/],
    ['cli command claimed twice', `actions:\n${okAction}clis:\n${okCli}${okCli.replace('id: x', 'id: y')}`, 20, /command "x" is already claimed by "x"/],
    ['cli widener on a bad input', `actions:\n${okAction}clis:\n${okCli}    toolWideners:\n      - { input: 'not a flag', pattern: x, grants: { shell: full } }\n`, 19, /toolWideners\[0\] \(not a flag\)\.input: "not a flag" is not a flag/],
    ['api without hosts or markers', `actions:\n${okAction}clis:\n${okCli}apis:\n  - { id: m, name: M, kind: model }\n`, 19, /apis\[0\] \(m\)\.hosts: needs `hosts` or `markers`/],
    ['agent api without acts', `actions:\n${okAction}clis:\n${okCli}apis:\n  - { id: m, name: M, kind: agent, hosts: [api.example.com] }\n`, 19, /apis\[0\] \(m\)\.acts: an agent API must say what it does/],
    ['api host listed twice', `actions:\n${okAction}clis:\n${okCli}apis:\n  - { id: m, name: M, kind: model, hosts: [api.example.com] }\n  - { id: n, name: N, kind: model, hosts: [api.example.com] }\n`, 20, /"api\.example\.com\/" is already listed by "m"/],
    ['api host with a scheme', `actions:\n${okAction}clis:\n${okCli}apis:\n  - { id: m, name: M, kind: model, hosts: ['https://api.example.com'] }\n`, 19, /is not a lowercase host name/],
    ['bot command without a slash', `actions:\n${okAction}    commandSurface:\n      events: [issue_comment]\n      commands:\n        - { name: describe, writes: [contents], what: x }\nclis:\n${okCli}`, 13, /commands\[0\] \(describe\)\.name: "describe" is not a slash command/],
    ['project file escaping the repository', `actions:\n${okAction}clis:\n${okCli}    projectFiles:\n      - { path: /etc/passwd, as: --x }\n`, 19, /path: "\/etc\/passwd" is not a path from the repository root/],
    ['YAML syntax error', `actions:\n${okAction}    uses: [o/r\nclis:\n${okCli}`, 10, /YAML/],
    ['duplicate key', `actions:\n${okAction}    name: B\nclis:\n${okCli}`, 10, /YAML .*(duplicate|unique)/i],
    ['top-level not a mapping', `- a\n- b\n`, 1, /expected a mapping, got a list/],
    ['empty file', ``, 1, /expected a mapping, got nothing/],
  ];
  test.each(agentCases)('agents.yml: %s', (_name, text, line, message) => {
    const err = errorOf(() => parseAgentsFile(text, 'rules/agents.yml'));
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(new RegExp(`^rules/agents\\.yml:${line}:\\d+: `));
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
  });

  test('sources.yml: bad author, bad path, duplicate path for an event', () => {
    let err = errorOf(() => parseSourcesFile('contexts:\n  - { path: github.event.issue.title, kind: title, author: someone }\nwholeObjects:\n  - { path: github, author: actor }\n'));
    expect(err.message).toMatch(/^rules\/sources\.yml:2:\d+: contexts\[0\] \(github\.event\.issue\.title\)\.author: expected one of/);
    err = errorOf(() => parseSourcesFile('contexts:\n  - { path: "github.event.issue[0].title", kind: title, author: issue }\nwholeObjects:\n  - { path: github, author: actor }\n'));
    expect(err.message).toMatch(/^rules\/sources\.yml:2:\d+: .*is not a lowercased dotted context path/);
    err = errorOf(() => parseSourcesFile('contexts:\n  - { path: github.x, kind: title, author: issue, events: [issues] }\n  - { path: github.x, kind: body, author: issue, events: [issues] }\nwholeObjects:\n  - { path: github, author: actor }\n'));
    expect(err.message).toMatch(/^rules\/sources\.yml:3:\d+: .*"github\.x" is listed twice for event issues/);
  });

  test('triggers.yml: bad who, duplicate event', () => {
    let err = errorOf(() => parseTriggersFile('triggers:\n  - event: issues\n    who: everyone\n'));
    expect(err.message).toMatch(/^rules\/triggers\.yml:3:10: triggers\[0\] \(issues\)\.who: expected one of "anyone"/);
    err = errorOf(() => parseTriggersFile('triggers:\n  - { event: issues, who: anyone }\n  - { event: issues, who: maintainers }\n'));
    expect(err.message).toMatch(/^rules\/triggers\.yml:3:\d+: .*duplicate event "issues"/);
  });

  test('cross-file: a bot command surface on an unknown event', () => {
    const err = errorOf(() => parseRuleSet({ agents: agentsText.replace('events: [issue_comment, pull_request_review_comment]', 'events: [issue_comments]'), sources: sourcesText, triggers: triggersText }));
    expect(err.message).toMatch(/\(pr-agent\)\.commandSurface\.events: unknown event "issue_comments"|commandSurface.*unknown event "issue_comments"/);
  });

  test('cross-file: an event missing from triggers.yml names the referring file and line', () => {
    const err = errorOf(() => parseRuleSet({
      agents: agentsText,
      sources: sourcesText.replace('events: [gollum] }', 'events: [gollumn] }'),
      triggers: triggersText,
    }));
    const lines = sourcesText.split('\n');
    const line = lines.findIndex((l) => l.includes('events: [gollum] }')) + 1;
    expect(err.message).toMatch(new RegExp(`^rules/sources\\.yml:${line}:\\d+: .*unknown event "gollumn" \\(not in triggers\\.yml\\)$`));
  });

  test('a mistake in the shipped agents.yml is reported at its line', () => {
    const lines = agentsText.split('\n');
    const at = lines.findIndex((l) => l.includes('keyHandling: proxy'));
    const broken = [...lines.slice(0, at), lines[at].replace('proxy', 'vault'), ...lines.slice(at + 1)].join('\n');
    const err = errorOf(() => parseAgentsFile(broken));
    expect(err.line).toBe(at + 1);
    expect(err.message).toMatch(/actions\[\d+\] \(codex-action\)\.keyHandling: expected one of "process", "proxy"; got "vault"$/);
  });

  test('custom file names are used in messages', () => {
    expect(errorOf(() => parseTriggersFile('triggers: 3\n', 'fixtures/t.yml')).message).toBe('fixtures/t.yml:1:11: triggers: expected a list, got number 3');
  });
});

describe('regexProblem', () => {
  test.each([
    ['(a+)+', true],
    ['(?:x*y?)*', true],
    ['(a|b)*', false],
    ['(?:(?!\\s-)[^\\n"\'])*?', false],
    ['^(?![\\s\\S]*run_shell_command)[\\s\\S]*?"core"', false],
    ['(a{2,})+', true],
    ['(a{2})+', true], // conservative: any quantifier inside a repeated group
    ['[(a+)]+', false],
    ['\\(a+\\)+', false],
  ])('%s → unsafe %s', (source, unsafe) => {
    expect(regexProblem(source) !== null).toBe(unsafe);
  });
  test('an invalid pattern is reported', () => {
    expect(regexProblem('(')).toMatch(/invalid regular expression/);
  });
});
