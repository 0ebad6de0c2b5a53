// Grants without the jail: the grant syntax, the text policy, and the bridge + `gh` shim + policy
// against a fake GitHub API on loopback. The honest requests arrive with the real token; every
// hostile one is refused by the bridge and never reaches the fake.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { AuditLog } from '../../src/guard/audit';
import { applyDeferred, parseApplyArgs } from '../../src/guard/grants/apply';
import type { ChangeSet } from '../../src/guard/boundary/types';
import { contextFromPayload, type GrantContext } from '../../src/guard/grants/context';
import { readDeferredFile, writeDeferredFile } from '../../src/guard/grants/defer';
import { ghShimSource } from '../../src/guard/grants/ghShim';
import { createGitHubClient } from '../../src/guard/grants/github';
import { graphqlRefusal } from '../../src/guard/grants/graphql';
import { checkRequest, newGrantState, type PolicyInput } from '../../src/guard/grants/policy';
import { globMatcher, openPullRequest, pathRefusal, readChangeSet } from '../../src/guard/grants/pullRequest';
import { prepareAgentCommand } from '../../src/guard/grants/agentCommand';
import { GITHUB_TOKEN_PLACEHOLDER, GrantSession } from '../../src/guard/grants/session';
import { parseGrant } from '../../src/guard/grants/spec';
import { checkText, neutralise } from '../../src/guard/grants/text';
import { grantRules, parseGrantRules } from '../../src/guard/grants/rules';
import { parseRunArgs } from '../../src/guard/options';
import { type FakeGithubApi, startFakeGithubApi } from './helpers/fakeGithubApi';
import { runProcess } from './helpers/runGuard';

const TOKEN = 'ghs_REALtokenHELDbyTHEguard0123456789abcdef';
const MODEL_KEY = 'sk-ant-api03-model-key-the-guard-holds-0123456789';
const ISSUE = 7;
const PULL = 8;

function context(number = ISSUE, isPr = false): GrantContext {
  const payload = isPr
    ? { pull_request: { number, base: { ref: 'main' } }, repository: { default_branch: 'main' } }
    : { issue: { number }, repository: { default_branch: 'main' } };
  return contextFromPayload({ GITHUB_REPOSITORY: 'octo/widgets', GITHUB_EVENT_NAME: isPr ? 'pull_request' : 'issues', GITHUB_RUN_ID: '4242' }, payload);
}

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe('grant syntax', () => {
  it('parses kinds, values and cap overrides', () => {
    expect(parseGrant('label=bug, good first issue;max=2')).toMatchObject({ kind: 'label', values: ['bug', 'good first issue'], caps: { max: 2 } });
    expect(parseGrant('review').values).toEqual(['comment']);
    expect(parseGrant('review=comment,approve').values).toEqual(['comment', 'approve']);
    expect(parseGrant('update-comment=123').commentId).toBe(123);
    expect(parseGrant('pull-request=src/**,docs/**').values).toEqual(['src/**', 'docs/**']);
  });

  it.each([
    ['push', /unknown grant "push"/],
    ['label', /needs the labels/],
    ['comment=x', /takes no values/],
    ['review=merge', /"merge" is not a review event/],
    ['comment;max=lots', /not a cap of comment/],
    ['comment;max-files=3', /not a cap of comment/],
    ['pull-request=../x', /must be relative/],
    ['update-comment=abc', /at most one comment id/],
  ])('refuses %s with one line', (text, message) => {
    expect(() => parseGrant(text)).toThrow(message);
  });

  it('is part of the run options, and --defer needs a grant', () => {
    const opts = parseRunArgs(['--grant', 'comment', '--grant=label=bug', '--defer', 'out.json', '--allow-links', '--', 'true']);
    expect(opts.grants?.map((g) => g.kind)).toEqual(['comment', 'label']);
    expect(opts).toMatchObject({ deferFile: 'out.json', allowLinks: true });
    expect(() => parseRunArgs(['--defer', 'x', '--', 'true'])).toThrow(/give at least one --grant/);
    expect(() => parseRunArgs(['--grant', 'comment', '--grant', 'comment', '--', 'true'])).toThrow(/given twice/);
  });

  it('a typo in rules/grants.yml fails loudly, naming the entry', () => {
    const text = fs.readFileSync(path.join(__dirname, '..', '..', 'rules', 'grants.yml'), 'utf8');
    expect(() => parseGrantRules(text.replace('POST /repos/{owner}/{repo}/pulls: pull-request.create', 'POST /repos/{owner}/{repo}/pulls: pull-request.merge'))).toThrow(
      /rules\/grants\.yml: routes\.POST \/repos\/\{owner\}\/\{repo\}\/pulls: "pull-request\.merge" is not one of/,
    );
    expect(() => parseGrantRules(text.replace('{ name: npm token, pattern:', '{ name: npm token, pattern: "(", x:'))).toThrow(/credential-shapes\[2\]|pattern does not compile/);
    expect(() => parseGrantRules(text.replace('caps: { max: 20 }', 'caps: { max: many }'))).toThrow(/grants\.label\.caps\.max: must be a whole number/);
    expect(() => parseGrantRules(text.replace('  label:\n', '  labels:\n'))).toThrow(/grants\.label: missing/);
    expect(parseGrantRules(text).routes.length).toBe(grantRules().routes.length);
  });

  it('the rules data loads and every grant has a max cap', () => {
    const rules = grantRules();
    for (const g of Object.values(rules.grants)) expect(g.caps.max).toBeGreaterThan(0);
    expect(rules.routes.length).toBeGreaterThan(5);
  });
});

describe('text policy', () => {
  const policy = { secrets: [TOKEN, MODEL_KEY], credentialShapes: grantRules().credentialShapes, githubHosts: grantRules().githubHosts, allowLinks: false, maxBytes: 2000, maxMentions: 3 };

  it('refuses a known secret in every form it can take', () => {
    const b64 = (prefix: string) => Buffer.from(prefix + TOKEN + 'tail').toString('base64');
    const forms = [
      TOKEN,
      `look: ${b64('')}`,
      `look: ${b64('x')}`,
      `look: ${b64('xy')}`,
      Buffer.from(TOKEN).toString('hex'),
      Buffer.from(TOKEN).toString('hex').toUpperCase(),
      encodeURIComponent(`a b ${MODEL_KEY}`),
      TOKEN.split('').join('\u200b'),
      TOKEN.replace('_', '%5F'),
    ];
    for (const text of forms) expect(checkText(text, { ...policy, credentialShapes: [] }, 'body')).toMatchObject({ ok: false, reason: expect.stringMatching(/secret the guard holds/) });
    // Values too short to be secrets are not held against the text.
    expect(checkText('a short word', { ...policy, secrets: ['short'] }, 'body').ok).toBe(true);
  });

  it.each([
    ['GitHub token', 'ghp_' + 'A'.repeat(36)],
    ['GitHub fine-grained token', 'github_pat_' + 'B'.repeat(40)],
    ['npm token', 'npm_' + 'c'.repeat(36)],
    ['AWS access key id', 'AKIAABCDEFGHIJKLMNOP'],
    ['Google API key', 'AIza' + 'd'.repeat(35)],
    ['Anthropic key', 'sk-ant-' + 'e'.repeat(30)],
    ['private key', '-----BEGIN OPENSSH PRIVATE KEY-----'],
  ])('refuses text shaped like a credential: %s', (name, value) => {
    expect(checkText(`here you go ${value}`, policy, 'body')).toEqual({ ok: false, reason: `body refused: it carries something shaped like a credential (${name})` });
  });

  it('neutralises mentions, slash commands and foreign links, and is idempotent', () => {
    const text = 'Thanks @alice and @org/team! mail me at a@b.com\n/deploy prod\n  /approve\n![x](https://evil.example/p?d=1) see www.evil.example and https://github.com/octo/widgets/issues/1 <img src="//evil.example/a.png">';
    const verdict = checkText(text, policy, 'body');
    expect(verdict.ok).toBe(true);
    const out = (verdict as { text: string }).text;
    expect(out).toContain('Thanks @\u2060alice and @\u2060org/team!');
    expect(out).toContain('a@b.com');
    expect(out).toContain('`/deploy` prod');
    expect(out).toContain('  `/approve`');
    expect(out).not.toMatch(/^\s*\/\w/m);
    expect(out).toContain('https[:]//evil[.]example/p?d=1');
    expect(out).toContain('www[.]evil[.]example');
    expect(out).toContain('[//]evil[.]example/a.png');
    expect(out).toContain('https://github.com/octo/widgets/issues/1');
    expect(out).not.toMatch(/evil\.example/);
    expect(neutralise(out, policy.githubHosts, false)).toBe(out);
    expect(neutralise('see https://evil.example', policy.githubHosts, true)).toBe('see https://evil.example');
  });

  it('refuses a mention storm and text over the size cap', () => {
    expect(checkText('@a @b @c @d', policy, 'body')).toMatchObject({ ok: false, reason: expect.stringMatching(/mentions 4 users or teams, over the cap of 3/) });
    expect(checkText('x'.repeat(2001), policy, 'body')).toMatchObject({ ok: false, reason: expect.stringMatching(/2001 bytes, over the cap of 2000/) });
  });
});

describe('policy', () => {
  const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
    grants: [parseGrant('comment;max=2'), parseGrant('label=bug,question'), parseGrant('review')],
    context: context(PULL, true),
    secrets: [TOKEN],
    allowLinks: false,
    ...over,
  });
  const target = { owner: 'octo', repo: 'widgets' };

  it('counts caps only for what it allows', () => {
    const state = newGrantState();
    const policy = input();
    expect(checkRequest({ ...target, kind: 'comment.create', number: PULL, body: 'one' }, policy, state).ok).toBe(true);
    expect(checkRequest({ ...target, kind: 'comment.create', number: PULL + 1, body: 'wrong issue' }, policy, state).ok).toBe(false);
    expect(checkRequest({ ...target, kind: 'comment.create', number: PULL, body: 'two' }, policy, state).ok).toBe(true);
    expect(checkRequest({ ...target, kind: 'comment.create', number: PULL, body: 'three' }, policy, state)).toMatchObject({ ok: false, reason: 'comments: cap of 2 reached' });
  });

  it('reviews: only granted events, on the triggering pull request, inline comments checked', () => {
    const state = newGrantState();
    const policy = input();
    expect(checkRequest({ ...target, kind: 'review.create', number: PULL, body: 'LGTM', event: 'APPROVE', comments: [] }, policy, state)).toMatchObject({ ok: false, reason: expect.stringMatching(/APPROVE is not in the grant/) });
    expect(checkRequest({ ...target, kind: 'review.create', number: PULL, body: 'ok', event: 'COMMENT', comments: [{ path: '../etc/passwd', body: 'x' }] }, policy, state)).toMatchObject({ ok: false, reason: expect.stringMatching(/no valid repository path/) });
    expect(checkRequest({ ...target, kind: 'review.create', number: PULL, body: 'ok', event: 'COMMENT', comments: [{ path: 'src/a.ts', line: 3, body: `leak ${TOKEN}` }] }, policy, state).ok).toBe(false);
    const ok = checkRequest({ ...target, kind: 'review.create', number: PULL, body: 'ok @bob', event: 'COMMENT', comments: [{ path: 'src/a.ts', line: 3, body: 'nit' }] }, policy, state);
    expect(ok).toMatchObject({ ok: true, request: { body: 'ok @\u2060bob' } });
    const onIssue = input({ context: context(ISSUE, false) });
    expect(checkRequest({ ...target, kind: 'review.create', number: ISSUE, body: 'x', event: 'COMMENT', comments: [] }, onIssue, newGrantState())).toMatchObject({ ok: false, reason: expect.stringMatching(/is an issue, not a pull request/) });
  });

  it('edits only the agent\'s own comments or the tracking comment', () => {
    const state = newGrantState();
    state.ownComments.push(5001);
    const policy = input();
    expect(checkRequest({ ...target, kind: 'comment.update', commentId: 5001, body: 'edited' }, policy, state)).toMatchObject({ ok: true, grant: 'comment' });
    expect(checkRequest({ ...target, kind: 'comment.update', commentId: 1, body: 'hijack' }, policy, state)).toMatchObject({ ok: false, reason: expect.stringMatching(/neither the tracking comment nor one the agent created/) });
    const tracking = input({ grants: [parseGrant('update-comment=77')] });
    expect(checkRequest({ ...target, kind: 'comment.update', commentId: 77, body: 'progress' }, tracking, state)).toMatchObject({ ok: true, grant: 'update-comment' });
    expect(checkRequest({ ...target, kind: 'comment.update', commentId: 5001, body: 'x' }, tracking, state).ok).toBe(false);
  });
});

describe('GraphQL through the bridge', () => {
  const check = (query: string, variables: Record<string, unknown> = {}) =>
    graphqlRefusal({ query, variables, owner: 'octo', repo: 'widgets', roots: grantRules().graphqlRoots, objects: grantRules().graphqlObjects, actors: grantRules().graphqlActors });

  it('lets read queries of the triggering repository through', () => {
    expect(check('query { repository(owner: "octo", name: "widgets") { issue(number: 7) { title comments(first: 5) { nodes { body } } } } }')).toBeUndefined();
    expect(check('query Q($o: String!, $n: String!) { repository(owner: $o, name: $n) { ...F } } fragment F on Repository { name }', { o: 'Octo', n: 'widgets' })).toBeUndefined();
  });

  it.each([
    ['a mutation', 'mutation { addComment(input: {subjectId: "x", body: "hi"}) { clientMutationId } }', /mutation refused/],
    ['another repository', '{ repository(owner: "evil", name: "x") { name } }', /not the triggering repository/],
    ['another root field', '{ viewer { login } }', /root field "viewer" is not allowed/],
    ['a hop to another repository', '{ repository(owner: "octo", name: "widgets") { owner { repository(name: "secret") { name } } } }', /reaches beyond/],
    ['a hop to the owner\'s repositories', '{ repository(owner: "octo", name: "widgets") { owner { repositories(first: 5) { nodes { name } } } } }', /reaches beyond/],
    ['a root fragment spread', '{ ...F } fragment F on Query { viewer { login } }', /fragments at the root/],
    ['garbage', '{ repository(owner: "octo", name: "widgets") { name }', /does not parse/],
  ])('refuses %s', (_what, query, reason) => {
    expect(check(query)).toMatch(reason);
  });
});

// A session's bridge on a loopback TCP port, and the shim run as the agent would run it.
interface Harness {
  fake: FakeGithubApi;
  bridge: http.Server;
  url: string;
  session: GrantSession;
  audit: AuditLog;
  shim: string;
  gh(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

async function harness(grants: string[], ctx: GrantContext, deferFile?: string): Promise<Harness> {
  const fake = await startFakeGithubApi();
  const audit = new AuditLog();
  const session = new GrantSession(
    { grants: grants.map(parseGrant), context: ctx, secrets: [TOKEN, MODEL_KEY], allowLinks: false, github: createGitHubClient(new URL(fake.url), TOKEN), audit, deferFile },
    'http://127.0.0.1:41098',
  );
  await new Promise<void>((r) => session.server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(session.server.address() as AddressInfo).port}`;
  const dir = tmp('agent-guard-shim-');
  const shim = path.join(dir, 'gh');
  fs.writeFileSync(shim, ghShimSource(process.execPath), { mode: 0o755 });
  const home = tmp('agent-guard-shim-home-');
  return {
    fake,
    bridge: session.server,
    url,
    session,
    audit,
    shim,
    gh(args, input) {
      // Asynchronous: the bridge answers from this same process.
      return runProcess(shim, args, { env: { PATH: '/usr/bin:/bin', HOME: home, GITHUB_API_URL: url, GH_REPO: 'octo/widgets', GH_TOKEN: 'placeholder' }, input: input ?? '' });
    },
    raw(method, p, body) {
      return new Promise((resolve) => {
        const req = http.request(`${url}${p}`, { method, headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    },
    async close() {
      session.server.closeAllConnections();
      await new Promise((r) => session.server.close(r));
      await fake.close();
    },
  };
}

describe('bridge and gh shim against a fake GitHub', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('an honest agent comments, labels, reads and reviews; GitHub sees exactly that, with the real token', async () => {
    h = await harness(['comment', 'label=bug,question', 'review'], context(PULL, true));
    expect(await h.gh(['pr', 'view', String(PULL), '--json', 'title,labels,headRefName', '--jq', '.title'])).toEqual({ code: 0, stdout: 'Fix the widget\n', stderr: '' });
    expect((await h.gh(['label', 'list', '--json', 'name', '--jq', '.[].name'])).stdout).toBe('bug\nquestion\ngood first issue\nsecurity\n');
    expect((await h.gh(['pr', 'diff', String(PULL)])).stdout).toContain('+hello');
    expect((await h.gh(['issue', 'view', String(PULL)])).stdout).toMatch(/^title:\tFix the widget\n/);
    const comment = await h.gh(['pr', 'comment', String(PULL), '--body-file', '-'], 'Looks like a null check is missing.\n');
    expect(comment).toMatchObject({ code: 0, stdout: expect.stringMatching(/issuecomment-/) });
    expect((await h.gh(['pr', 'comment', String(PULL), '--edit-last', '-b', 'Updated: a null check is missing.'])).code).toBe(0);
    expect((await h.gh(['pr', 'edit', String(PULL), '--add-label', 'bug', '--remove-label', 'question'])).code).toBe(0);
    expect((await h.gh(['pr', 'review', String(PULL), '--comment', '-b', 'Please add a test.'])).code).toBe(0);
    expect((await h.gh(['api', 'repos/{owner}/{repo}/issues/8/comments', '--jq', '.[0].body'])).stdout).toBe('first!\n');
    const query = 'query($n: Int!) { repository(owner: "octo", name: "widgets") { issue(number: $n) { title } } }';
    expect((await h.gh(['api', 'graphql', '-f', `query=${query}`, '-F', 'n=8', '--jq', '.data.repository.issue.title'])).stdout).toBe('Widget crashes on start\n');
    expect(h.fake.calls.find((c) => c.path === '/graphql')?.body).toEqual({ query, variables: { n: 8 } });
    expect(h.fake.writes().map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/repos/octo/widgets/issues/8/comments', { body: 'Looks like a null check is missing.\n' }],
      ['PATCH', '/repos/octo/widgets/issues/comments/5000', { body: 'Updated: a null check is missing.' }],
      ['POST', '/repos/octo/widgets/issues/8/labels', { labels: ['bug'] }],
      ['DELETE', '/repos/octo/widgets/issues/8/labels/question', undefined],
      ['POST', '/repos/octo/widgets/pulls/8/reviews', { event: 'COMMENT', body: 'Please add a test.' }],
    ]);
    for (const call of h.fake.calls) expect(call.authorization).toBe(`Bearer ${TOKEN}`);
    expect(h.audit.records.filter((r) => r.refused)).toEqual([]);
  });

  it('a hostile agent is refused at the bridge and nothing reaches GitHub', async () => {
    h = await harness(['comment;max=2', 'label=bug,question'], context(ISSUE, false));
    const refusals: [string, Awaited<ReturnType<Harness['gh']>>, RegExp][] = [
      ['another issue', await h.gh(['issue', 'comment', '8', '-b', 'hi']), /#8 is not the triggering issue #7/],
      ['another repository', await h.gh(['issue', 'comment', '7', '-R', 'evil/repo', '-b', 'hi']), /evil\/repo is not the triggering repository/],
      ['a label outside the list', await h.gh(['issue', 'edit', '7', '--add-label', 'security']), /label "security" is not in the grant/],
      ['a secret', await h.gh(['issue', 'comment', '7', '-b', `the token is ${TOKEN}`]), /secret the guard holds/],
      ['a base64 secret', await h.gh(['issue', 'comment', '7', '-b', Buffer.from(`k=${MODEL_KEY}`).toString('base64')]), /secret the guard holds/],
      ['a token-shaped string', await h.gh(['issue', 'comment', '7', '-b', 'ghp_' + 'x'.repeat(36)]), /shaped like a credential \(GitHub token\)/],
      ['a mention storm', await h.gh(['issue', 'comment', '7', '-b', '@a @b @c @d @e']), /over the cap of 3/],
      ['a title edit', await h.gh(['issue', 'edit', '7', '--title', 'pwned']), /--title is not available/],
      ['closing the issue', await h.gh(['issue', 'close', '7']), /`gh issue close` is not available under agent-guard/],
      ['a raw contents write', await h.gh(['api', '-X', 'PUT', 'repos/octo/widgets/contents/.github/workflows/x.yml', '-f', 'message=x', '-f', 'content=eA==']), /PUT .* is a write no grant allows/],
      ['a new repository', await h.gh(['api', '-X', 'POST', '/user/repos', '-f', 'name=exfil']), /POST \/user\/repos is a write no grant allows/],
      ['a GraphQL mutation', await h.gh(['api', 'graphql', '-f', 'query=mutation { addComment(input:{subjectId:"I_1", body:"x"}) { clientMutationId } }']), /GraphQL mutation refused/],
      ['a read of another repository', await h.gh(['api', 'repos/evil/x/issues/1']), /evil\/x is not the triggering repository/],
      ['a read outside the routes', await h.gh(['api', 'repos/octo/widgets/actions/secrets']), /not a read the grants allow/],
      ['the token', await h.gh(['auth', 'token']), /held by agent-guard/],
    ];
    for (const [what, result, reason] of refusals) {
      expect({ what, code: result.code, lines: result.stderr.trim().split('\n').length }).toEqual({ what, code: 1, lines: 1 });
      expect(result.stderr).toMatch(reason);
    }
    // A slash command is neutralised, not run; then the comment cap stops the third comment.
    expect((await h.gh(['issue', 'comment', '7', '-b', '/deploy production'])).code).toBe(0);
    expect((await h.gh(['issue', 'comment', '7', '-b', 'second'])).code).toBe(0);
    expect((await h.gh(['issue', 'comment', '7', '-b', 'third'])).stderr).toMatch(/comments: cap of 2 reached/);
    const raw = await h.raw('PATCH', '/repos/octo/widgets/issues/comments/1', { body: 'rewrite the maintainer\'s comment' });
    expect(raw.status).toBe(403);
    expect(h.fake.writes().map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/repos/octo/widgets/issues/7/comments', { body: '`/deploy` production' }],
      ['POST', '/repos/octo/widgets/issues/7/comments', { body: 'second' }],
    ]);
    const audited = h.audit.records.filter((r) => r.refused);
    expect(audited.length).toBeGreaterThanOrEqual(12);
    expect(audited.every((r) => r.kind === 'grant' && r.status >= 400)).toBe(true);
    // The step summary lists every request with its reason, with the agent's text escaped.
    await h.gh(['issue', 'edit', '7', '--add-label', '<img src=x>|x']);
    const summary = h.audit.stepSummaryMarkdown(0);
    expect(summary).toContain('label "&lt;img src=x&gt;\\|x" is not in the grant');
    expect(summary).not.toMatch(/[^\\]<img/);
  });

  it('pull-request.create waits for the change set; --defer records instead of writing', async () => {
    const deferFile = path.join(tmp('agent-guard-defer-'), 'requests.json');
    h = await harness(['comment', 'label=bug', 'pull-request'], context(ISSUE, false), deferFile);
    expect((await h.gh(['issue', 'comment', '7', '-b', 'Triage: a bug, see @alice'])).stdout).toContain('#deferred-');
    expect((await h.gh(['issue', 'comment', '7', '--edit-last', '-b', 'Triage: a bug.'])).code).toBe(0);
    expect((await h.gh(['issue', 'edit', '7', '--add-label', 'bug'])).code).toBe(0);
    expect((await h.gh(['pr', 'create', '--title', 'Fix the crash', '--body', 'Fixes #7'])).stdout).toMatch(/opens this pull request/);
    expect(h.fake.writes()).toEqual([]);
    const changeSet = handBuiltChangeSet({ 'src/widget.ts': 'export const ok = true;\n' });
    const outcome = await h.session.finish(changeSet);
    expect(outcome.deferSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(h.fake.writes()).toEqual([]);
    const file = readDeferredFile(deferFile, outcome.deferSha256);
    expect(file.requests.map((r) => r.kind)).toEqual(['comment.create', 'comment.update', 'labels.add', 'pull-request.create']);
    expect(file.requests[0]).toMatchObject({ body: 'Triage: a bug, see @\u2060alice' });
    expect(file.requests[1]).toMatchObject({ ownIndex: 0 });
    expect(file.files?.map((f) => f.path)).toEqual(['src/widget.ts']);

    // apply, in a later job: the comment, its edit (mapped to the new comment's id), the label and
    // the pull request from the recorded files, all with the real token.
    const eventFile = path.join(path.dirname(deferFile), 'event.json');
    fs.writeFileSync(eventFile, JSON.stringify({ issue: { number: ISSUE }, repository: { default_branch: 'main' } }));
    const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: h.fake.url, GITHUB_REPOSITORY: 'octo/widgets', GITHUB_EVENT_NAME: 'issues', GITHUB_EVENT_PATH: eventFile, GITHUB_RUN_ID: '4243' };
    const sink = new PassThrough();
    const applied = await applyDeferred(parseApplyArgs([deferFile, '--grant', 'comment', '--grant', 'label=bug', '--grant', 'pull-request', '--sha256', outcome.deferSha256!]), { env, stdout: sink, stderr: sink });
    expect(applied.performed).toBe(4);
    expect(h.fake.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /repos/octo/widgets/issues/7/comments',
      'PATCH /repos/octo/widgets/issues/comments/5000',
      'POST /repos/octo/widgets/issues/7/labels',
      'POST /repos/octo/widgets/git/blobs',
      'POST /repos/octo/widgets/git/trees',
      'POST /repos/octo/widgets/git/commits',
      'POST /repos/octo/widgets/git/refs',
      'POST /repos/octo/widgets/pulls',
    ]);
    expect(h.fake.writes()[7].body).toMatchObject({ title: 'Fix the crash', body: 'Fixes #7', head: expect.stringMatching(/^agent-guard\/run-4243-/) });
    // The same file with a workflow among the changes (and its digest not checked) is refused whole.
    const doc = JSON.parse(fs.readFileSync(deferFile, 'utf8'));
    doc.changes[0].path = '.github/workflows/ci.yml';
    const tampered = path.join(path.dirname(deferFile), 'tampered.json');
    fs.writeFileSync(tampered, JSON.stringify(doc));
    const before = h.fake.writes().length;
    await expect(applyDeferred(parseApplyArgs([tampered, '--grant', 'comment', '--grant', 'label=bug', '--grant', 'pull-request']), { env, stdout: sink, stderr: sink })).rejects.toThrow(
      /workflow or tool configuration/,
    );
    expect(h.fake.writes().length).toBe(before);
  });
});

function handBuiltChangeSet(files: Record<string, string | null>): ChangeSet {
  const dir = tmp('agent-guard-changes-');
  const crypto = require('node:crypto') as typeof import('node:crypto');
  return {
    files: Object.entries(files).map(([p, content], i) => {
      if (content === null) return { kind: 'delete' as const, path: p };
      const contentFile = path.join(dir, String(i));
      fs.writeFileSync(contentFile, content);
      return { kind: 'write' as const, path: p, mode: 0o644 as const, contentFile, size: content.length, sha256: crypto.createHash('sha256').update(content).digest('hex') };
    }),
    refused: [],
    commits: [],
  };
}

describe('pull requests from a change set', () => {
  let fake: FakeGithubApi;
  afterEach(async () => fake?.close());

  it('globs: default excludes workflows and tool configuration; named globs limit the paths', () => {
    expect(globMatcher('src/**')('src/a/b.ts')).toBe(true);
    expect(globMatcher('**/CLAUDE.md')('CLAUDE.md')).toBe(true);
    expect(globMatcher('**/CLAUDE.md')('pkg/CLAUDE.md')).toBe(true);
    expect(globMatcher('*.md')('docs/a.md')).toBe(false);
    expect(globMatcher('docs')('docs/a.md')).toBe(true);
    const byDefault = parseGrant('pull-request');
    expect(pathRefusal('src/a.ts', byDefault)).toBeUndefined();
    expect(pathRefusal('.github/workflows/ci.yml', byDefault)).toMatch(/workflow or tool configuration/);
    expect(pathRefusal('.claude/settings.json', byDefault)).toMatch(/workflow or tool configuration/);
    expect(pathRefusal('README.md', parseGrant('pull-request=src/**'))).toMatch(/outside the granted paths/);
  });

  it('pushes blobs, a tree and a commit to a new branch and opens the pull request against the base', async () => {
    fake = await startFakeGithubApi();
    const github = createGitHubClient(new URL(fake.url), TOKEN);
    const files = readChangeSet(handBuiltChangeSet({ 'src/widget.ts': 'fixed\n', 'old.txt': null }));
    const opened = await openPullRequest(files, { title: 'Fix the crash', body: 'Fixes #7', draft: false }, parseGrant('pull-request'), github, context(), [TOKEN]);
    expect(opened).toMatchObject({ number: 99, branch: expect.stringMatching(/^agent-guard\/run-4242-[0-9a-f]{6}$/) });
    const writes = fake.writes();
    expect(writes.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /repos/octo/widgets/git/blobs',
      'POST /repos/octo/widgets/git/trees',
      'POST /repos/octo/widgets/git/commits',
      'POST /repos/octo/widgets/git/refs',
      'POST /repos/octo/widgets/pulls',
    ]);
    expect(writes[1].body).toMatchObject({ base_tree: 'c'.repeat(40), tree: [{ path: 'src/widget.ts', mode: '100644' }, { path: 'old.txt', sha: null }] });
    expect(writes[3].body).toMatchObject({ ref: `refs/heads/${opened.branch}` });
    expect(writes[4].body).toMatchObject({ title: 'Fix the crash', head: opened.branch, base: 'main' });
    for (const c of fake.calls) expect(c.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it.each([
    ['a workflow file', { '.github/workflows/ci.yml': 'on: push' }, /workflow or tool configuration/],
    ['a secret in a file', { 'src/config.ts': `export const t = "${TOKEN}";` }, /secret the guard holds/],
    ['no changes', {}, /changed no files/],
  ])('refuses %s before any write', async (_what, files, reason) => {
    fake = await startFakeGithubApi();
    const github = createGitHubClient(new URL(fake.url), TOKEN);
    await expect(openPullRequest(readChangeSet(handBuiltChangeSet(files)), { title: 't', body: '', draft: false }, parseGrant('pull-request'), github, context(), [TOKEN])).rejects.toThrow(reason);
    expect(fake.calls).toEqual([]);
  });

  it('a change whose bytes changed after the check is refused', () => {
    const cs = handBuiltChangeSet({ 'src/a.ts': 'checked' });
    fs.writeFileSync((cs.files[0] as { contentFile: string }).contentFile, 'swapped');
    expect(() => readChangeSet(cs)).toThrow(/changed after it was checked/);
  });
});

describe("the agent's command line", () => {
  it("claude-code-action's --mcp-config: the token becomes the placeholder, the servers use the bridge, their project is visible", () => {
    const action = tmp('agent-guard-action-');
    fs.writeFileSync(path.join(action, 'package.json'), '{}');
    fs.mkdirSync(path.join(action, 'src', 'mcp'), { recursive: true });
    const server = path.join(action, 'src', 'mcp', 'github-comment-server.ts');
    fs.writeFileSync(server, '');
    const loose = path.join(tmp('agent-guard-loose-'), 'server.js');
    fs.writeFileSync(loose, '');
    const config = {
      mcpServers: {
        github_comment: { command: 'node', args: ['run', server], env: { GITHUB_TOKEN: TOKEN, CLAUDE_COMMENT_ID: '4321', GITHUB_API_URL: 'https://api.github.com' } },
        other: { command: 'node', args: [loose], env: { GH_TOKEN: `Bearer ${TOKEN}` } },
      },
    };
    const out = prepareAgentCommand(['claude', '--mcp-config', JSON.stringify(config), `--mcp-config=${JSON.stringify(config)}`, '-p', 'hi'], [TOKEN], 'http://127.0.0.1:41098', { PATH: '/usr/bin:/bin' });
    expect(out.command.join(' ')).not.toContain(TOKEN);
    const rewritten = JSON.parse(out.command[2]);
    expect(rewritten.mcpServers.github_comment.env).toEqual({ GITHUB_TOKEN: GITHUB_TOKEN_PLACEHOLDER, CLAUDE_COMMENT_ID: '4321', GITHUB_API_URL: 'http://127.0.0.1:41098' });
    expect(rewritten.mcpServers.other.env.GH_TOKEN).toBe(GITHUB_TOKEN_PLACEHOLDER);
    expect(out.command[3].startsWith('--mcp-config={')).toBe(true);
    expect(out.trackingCommentId).toBe(4321);
    expect(out.visible).toContain(fs.realpathSync(action));
    expect(out.visible).not.toContain(path.dirname(loose));
  });

  it('any other argument carrying a secret stops the run', () => {
    expect(() => prepareAgentCommand(['claude', '-p', `use ${TOKEN}`], [TOKEN], undefined, {})).toThrow(/argument 2 of the agent's command carries a secret/);
  });
});

describe('the --defer file', () => {
  it('is written without following a link the agent left in its place', () => {
    const dir = tmp('agent-guard-defer-link-');
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'untouched');
    const file = path.join(dir, 'triage.json');
    fs.symlinkSync(victim, file);
    writeDeferredFile(file, { format: 'agent-guard-deferred/1', repository: 'octo/widgets', runId: '1', requests: [] });
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched');
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(false);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
