// Red-team attacks on the grants (the guard's way out to GitHub), each written as the attacker who
// controls the agent and the pull request's files would try it. Each attack that once worked is
// kept here as a test of the class it belonged to; attacks that held are kept where they add cover.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse as referenceParse, Kind, type OperationDefinitionNode } from 'graphql';
import { applyMain } from '../../src/guard/grants/apply';
import { DEFER_FORMAT, type DeferredFile, deferredChanges, writeDeferredFile } from '../../src/guard/grants/defer';
import { graphqlRefusal } from '../../src/guard/grants/graphql';
import { grantRules } from '../../src/guard/grants/rules';
import { describeGrantOutcome } from '../../src/guard/grants/session';
import { checkText } from '../../src/guard/grants/text';
import { renderAsGithub } from './helpers/renderModel';
import { runnerCommands } from './helpers/runnerModel';

const OWNER = 'octo';
const REPO = 'widgets';

const refusal = (query: string, variables: Record<string, unknown> = {}) =>
  graphqlRefusal({ query, variables, owner: OWNER, repo: REPO, roots: grantRules().graphqlRoots, objects: grantRules().graphqlObjects, actors: grantRules().graphqlActors });

/** The root fields the reference parser (graphql-js, the spec's own implementation) sees. */
function rootsSeenBySpec(query: string): string[] {
  const doc = referenceParse(query);
  return doc.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .flatMap((op) => op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : `<${s.kind}>`)));
}

describe('GraphQL: the guard reads a document as GitHub does', () => {
  // Documents whose text hides a root field from a lexer that is not the spec's: a block string's
  // escaped triple quote, a name longer than a lexer's window, comments and odd white space.
  const smuggled = [
    ['an escaped triple quote in a block string', `{ repository(owner:"${OWNER}",name:"${REPO}") { label(name: """bug\\""" ) { name } } } # """) { name } } viewer { login } }`],
    ['a name over 256 characters', `{ repository(owner:"${OWNER}",name:"${REPO}") { name } ${'a'.repeat(256)}: viewer { login } }`],
    ['a unicode escape that swallows the quote', `{ repository(owner:"${OWNER}",name:"${REPO}") { label(name: "\\u{41}") { name } } viewer { login } }`],
  ];

  it.each(smuggled)('%s: whatever the spec sees at the root is what the guard judges', (_what, query) => {
    const seen = (() => {
      try {
        return rootsSeenBySpec(query);
      } catch {
        return undefined; // GitHub would not run it either
      }
    })();
    const verdict = refusal(query);
    if (seen?.some((root) => root !== 'repository')) expect(verdict).toMatch(/root field "viewer" is not allowed|does not parse/);
    else expect(seen).toBeUndefined();
  });

  it('the block-string document really does carry `viewer` for a spec parser', () => {
    expect(rootsSeenBySpec(smuggled[0][1])).toEqual(['repository', 'viewer']);
  });
});

describe('GraphQL: hops below the repository are an allowlist', () => {
  const repo = (inner: string) => `{ repository(owner: "${OWNER}", name: "${REPO}") { ${inner} } }`;

  it.each([
    ["a fork's parent", repo('parent { issues(first: 5) { nodes { title body } } }')],
    ['an organisation project (items from other repositories)', repo('owner { ... on Organization { projectsV2(first: 5) { nodes { items(first: 50) { nodes { content { ... on Issue { body } } } } } } } }')],
    ['a cross-reference from another repository', repo('issue(number: 7) { timelineItems(first: 50) { nodes { ... on CrossReferencedEvent { source { ... on Issue { title body } } } } } }')],
    ["the author's own issues everywhere", repo('issue(number: 7) { author { ... on User { issues(first: 50) { nodes { title body } } } } }')],
    ["the author's gists", repo('issue(number: 7) { author { ... on User { gists(first: 10) { nodes { files { text } } } } } }')],
    ['a fragment that means other things below a user', `{ repository(owner: "${OWNER}", name: "${REPO}") { owner { ...F } } } fragment F on User { pullRequests(first: 9) { nodes { body } } }`],
    ['vulnerability alerts', repo('vulnerabilityAlerts(first: 5) { nodes { securityAdvisory { summary } } }')],
    ['another repository by argument', repo('issue(number: 7) { repository(name: "secret") { name } }')],
  ])('refuses %s', (_what, query) => {
    expect(refusal(query)).toMatch(/reaches beyond the triggering repository/);
  });

  it('keeps what agents read: issues, pull requests, comments, reviews, labels and who wrote them', () => {
    expect(
      refusal(
        repo(
          'issue(number: 7) { title body author { login } labels(first: 20) { nodes { name } } comments(first: 50) { nodes { body author { login ... on User { name } } } pageInfo { hasNextPage endCursor } } } ' +
            'pullRequest(number: 8) { title files(first: 100) { nodes { path additions } } reviews(first: 10) { nodes { body state author { login } } } reviewThreads(first: 10) { edges { node { comments(first: 5) { nodes { path body } } } } } }',
        ),
      ),
    ).toBeUndefined();
  });

  it('fragments spreading each other are checked once per place, not 2^depth times', () => {
    const defs = Array.from({ length: 24 }, (_, i) => `fragment F${i} on Issue { title ...F${i + 1} ...F${i + 1} }`).join(' ') + ' fragment F24 on Issue { title }';
    const started = Date.now();
    expect(refusal(`${repo('issue(number: 7) { ...F0 }')} ${defs}`)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a fragment defined twice is refused (which one would GitHub use?)', () => {
    expect(refusal(`${repo('issue(number: 7) { ...F }')} fragment F on Issue { title } fragment F on Issue { author { ... on User { issues(first: 1) { nodes { body } } } } }`)).toMatch(/defined twice/);
  });
});

describe("the guard's own lines never carry a workflow command the agent chose", () => {
  const commandPath = 'src/##[set-output name=verdict;]approved.ts';

  it('a refused pull request names its file without a command in the line', () => {
    const lines = describeGrantOutcome({ pullRequest: { refused: `${commandPath} is outside the granted paths (docs/**)` } }, undefined);
    expect(lines).toContain('is outside the granted paths');
    expect(runnerCommands(Buffer.from(lines))).toEqual([]);
  });

  it('apply refusing a recorded change prints one line with no command in it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-rt-apply-'));
    const event = path.join(dir, 'event.json');
    fs.writeFileSync(event, JSON.stringify({ issue: { number: 7 }, repository: { default_branch: 'main' } }));
    const file = path.join(dir, 'deferred.json');
    const content = Buffer.from('ok\n');
    writeDeferredFile(file, {
      format: DEFER_FORMAT,
      repository: `${OWNER}/${REPO}`,
      runId: '1',
      requests: [{ owner: OWNER, repo: REPO, kind: 'pull-request.create', title: 'Fix', body: '', draft: false }],
      changes: deferredChanges([{ path: commandPath, mode: 0o644, content }]),
    });
    let stderr = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((stderr += chunk), done()) });
    const env = { GITHUB_TOKEN: 'ghs_x', GITHUB_API_URL: 'http://127.0.0.1:9', GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_EVENT_NAME: 'issues', GITHUB_EVENT_PATH: event };
    expect(await applyMain([file, '--grant', 'pull-request=docs/**'], { env, stdout: sink, stderr: sink })).toBe(125);
    expect(stderr).toMatch(/outside the granted paths/);
    expect(runnerCommands(Buffer.from(stderr))).toEqual([]);
  });
});

describe('published text: what GitHub renders from it, not what a regular expression sees', () => {
  const hosts = grantRules().githubHosts;
  const policy = { secrets: [], credentialShapes: grantRules().credentialShapes, githubHosts: hosts, allowLinks: false, maxBytes: 65536, maxMentions: 3 };
  const publish = (text: string) => {
    const verdict = checkText(text, policy, 'comment body');
    if (!verdict.ok) throw new Error(verdict.reason);
    return verdict.text;
  };

  it.each([
    ['a link behind HTML entities', '[docs](https&#58;&#47;&#47;evil.example/x?d=1)'],
    ['an image behind named entities', '![x](https&colon;&sol;&sol;evil.example/p.png)'],
    ['an autolink behind a numeric entity', 'see https&#x3a;//evil.example/a'],
    ['a scheme with no slashes (another scheme than the page)', '[docs](http:evil.example/x)'],
    ['backslashes for slashes', '<a href="https:\\\\evil.example/x">docs</a>'],
    ['escaped slashes', '[docs](https:\\/\\/evil.example/x)'],
    ['an escaped colon', '[docs](http\\:evil.example/x)'],
    ['a GitHub host with an escaped @', '[docs](https://github.com\\@evil.example/x)'],
    ['a GitHub host with an escaped dot', '[docs](https://github.com\\.evil.example/x)'],
    ['a GitHub host with an entity @', '[docs](https://github.com&#64;evil.example/x)'],
    ['a tab inside the scheme of an HTML attribute', '<a href="ht\ttps://evil.example/x">docs</a>'],
    ['a newline inside the scheme of an HTML attribute', '<img src="h\nttps://evil.example/p.png">'],
    ['slash-backslash as a protocol-relative URL', '<img src="/\\evil.example/p.png">'],
  ])('no live link to a foreign host: %s', (_what, text) => {
    expect(renderAsGithub(text, hosts).foreignHosts.length).toBeGreaterThan(0);
    const out = publish(text);
    expect(renderAsGithub(out, hosts).foreignHosts).toEqual([]);
    expect(publish(out)).toBe(out);
  });

  it.each([
    ['an escaped @ (the backslash eats the code span)', 'ping \\@alice'],
    ['an odd backtick before it', 'a ` @alice b'],
    ['an entity @', 'ping &#64;alice'],
    ['a named entity @', 'ping &commat;alice'],
    ['a dot, a dash or a slash before it', 'x.@alice y-@bob z/@carol'],
    ['another @ before it', 'cc @@dave'],
    ['a team after a path', 'see node_modules/@octo/maintainers'],
  ])('no one is notified: %s', (_what, text) => {
    expect(renderAsGithub(text, hosts).mentions.length).toBeGreaterThan(0);
    const out = publish(text);
    expect(renderAsGithub(out, hosts).mentions).toEqual([]);
    expect(publish(out)).toBe(out);
  });

  it('more mentions than the cap, in any of these forms, are refused', () => {
    expect(checkText('&#64;a \\@b x.@c @@d', policy, 'body')).toMatchObject({ ok: false, reason: expect.stringMatching(/over the cap of 3/) });
  });

  it.each([
    ['no-break space', '\u00a0/deploy prod'],
    ['ideographic space', '\u3000/deploy prod'],
    ['a zero-width space', '\u200b/deploy prod'],
    ['a byte-order mark', '\ufeff/deploy prod'],
    ['a vertical tab', '\u000b/deploy prod'],
  ])('a slash command after %s does not start a line once trimmed', (_what, text) => {
    const out = publish(`ok\n${text}`);
    for (const line of out.split(/\r\n|\r|\n/)) {
      expect(line.trim().replace(/^[\u200b-\u200d\u2060\ufeff]+/, '')).not.toMatch(/^\//);
    }
    expect(publish(out)).toBe(out);
  });

  it('honest text keeps its GitHub links, e-mail addresses and code', () => {
    const text = 'See https://github.com/octo/widgets/pull/8 and `npm test`; mail a@b.example. Fixes #7.\n```c\nif (a<b && c) {\n  x = c>d;\n}\n```\n<details open>\n<summary>More</summary>\n\nok\n</details>';
    const out = publish(text);
    expect(out).toBe(text);
    expect(renderAsGithub(out, hosts)).toEqual({ foreignHosts: [], mentions: [] });
  });
});

describe('the --defer file in a workspace the pull request shaped', () => {
  it('is never written through a folder link the repository or the agent planted', () => {
    const workspace = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-rt-ws-')));
    const elsewhere = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-rt-elsewhere-')));
    // `out` is committed in the pull request as a link to a folder a later step trusts.
    fs.symlinkSync(elsewhere, path.join(workspace, 'out'));
    const file = path.join(workspace, 'out', 'triage.json');
    const content: DeferredFile = { format: DEFER_FORMAT, repository: `${OWNER}/${REPO}`, runId: '1', requests: [] };
    expect(() => writeDeferredFile(file, content, [workspace])).toThrow(/out is a symlink/);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    // A real folder in the workspace, and a path outside it, are fine.
    fs.mkdirSync(path.join(workspace, 'real'));
    expect(writeDeferredFile(path.join(workspace, 'real', 'triage.json'), content, [workspace])).toMatch(/^[0-9a-f]{64}$/);
    expect(writeDeferredFile(path.join(elsewhere, 'triage.json'), content, [workspace])).toMatch(/^[0-9a-f]{64}$/);
  });
});
