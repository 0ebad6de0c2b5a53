// The triggering-input decision: each event shape, each way the payload can be missing or odd
// (fail closed), and the refusal of allow-hosts / pass-env under untrusted input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decideTrust, readTrustDecision, untrustedRefusal } from '../../src/guard/untrusted';
import { EVENTS } from './helpers/runner';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(EVENTS, name), 'utf8'));
const REPO = { full_name: 'acme/widgets' };
const user = (login: string, type = 'User') => ({ login, type });

describe('decideTrust on the four fixture shapes', () => {
  it('an issue opened by a stranger is untrusted, and the reason names the author and association', () => {
    const d = decideTrust('issues', fixture('issue-stranger.json'));
    expect(d).toEqual({
      untrusted: true,
      event: 'issues',
      reason: 'issue #41 was written by drive-by-stranger (author_association NONE), who is not an owner, member or collaborator.',
    });
  });

  it("a member's comment on a member's issue is trusted", () => {
    const d = decideTrust('issue_comment', fixture('comment-member.json'));
    expect(d.untrusted).toBe(false);
    expect(d.reason).toBe('the comment by maintainer-bob (MEMBER) and issue #7 by maintainer-alice (MEMBER): every author is an owner, member or collaborator.');
  });

  it('a pull request from a fork is untrusted', () => {
    const d = decideTrust('pull_request_target', fixture('pr-fork.json'));
    expect(d).toMatchObject({ untrusted: true, reason: 'pull request #12 comes from the fork forker/widgets.' });
    expect(decideTrust('pull_request', fixture('pr-fork.json')).untrusted).toBe(true);
  });

  it('a push by a maintainer is trusted', () => {
    expect(decideTrust('push', fixture('push.json'))).toEqual({
      untrusted: false,
      event: 'push',
      reason: "'push' needs write access, and was fired by maintainer-alice.",
    });
  });
});

describe('decideTrust: the harder shapes', () => {
  it("a member's comment on a stranger's issue is untrusted: the agent reads the issue too", () => {
    const p = fixture('comment-member.json');
    p.issue.author_association = 'NONE';
    p.issue.user.login = 'stranger';
    const d = decideTrust('issue_comment', p);
    expect(d.untrusted).toBe(true);
    expect(d.reason).toContain('issue #7 was written by stranger (author_association NONE)');
  });

  it.each(['CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'FIRST_TIMER', 'NONE', 'MANNEQUIN'])('author_association %s is an outsider', (assoc) => {
    const p = fixture('issue-stranger.json');
    p.issue.author_association = assoc;
    expect(decideTrust('issues', p).untrusted).toBe(true);
  });

  it.each(['OWNER', 'MEMBER', 'COLLABORATOR'])('author_association %s is trusted', (assoc) => {
    const p = fixture('issue-stranger.json');
    p.issue.author_association = assoc;
    p.sender = user('someone');
    expect(decideTrust('issues', p).untrusted).toBe(false);
  });

  it('a pull request from a branch of the same repository by a collaborator is trusted', () => {
    const p = fixture('pr-fork.json');
    p.pull_request.head.repo.full_name = 'acme/widgets';
    p.pull_request.author_association = 'COLLABORATOR';
    expect(decideTrust('pull_request', p).untrusted).toBe(false);
  });

  it('a pull request whose fork was deleted (head.repo null) is untrusted', () => {
    const p = fixture('pr-fork.json');
    p.pull_request.head.repo = null;
    expect(decideTrust('pull_request_target', p).reason).toContain('is gone or unknown');
  });

  it('a review by a member on a fork pull request is untrusted; by an outsider on a same-repo PR too', () => {
    const p = fixture('pr-fork.json');
    p.review = { user: user('maintainer-alice'), author_association: 'MEMBER' };
    expect(decideTrust('pull_request_review', p).untrusted).toBe(true);
    p.pull_request.head.repo.full_name = 'acme/widgets';
    p.pull_request.author_association = 'MEMBER';
    p.review = { user: user('stranger'), author_association: 'NONE' };
    expect(decideTrust('pull_request_review', p).reason).toContain('the review was written by stranger');
    p.comment = { user: user('stranger'), author_association: 'NONE' };
    expect(decideTrust('pull_request_review_comment', p).reason).toContain('the review comment was written by stranger');
  });

  it('discussions and discussion comments check every author', () => {
    const discussion = { number: 3, user: user('stranger'), author_association: 'NONE' };
    expect(decideTrust('discussion', { discussion, repository: REPO, sender: user('stranger') }).untrusted).toBe(true);
    const memberDiscussion = { ...discussion, user: user('alice'), author_association: 'OWNER' };
    const comment = { user: user('bob'), author_association: 'COLLABORATOR' };
    expect(decideTrust('discussion_comment', { discussion: memberDiscussion, comment, repository: REPO, sender: user('bob') }).untrusted).toBe(false);
  });

  it('a bot sender is untrusted: it acts for whoever drives it', () => {
    const p = fixture('comment-member.json');
    p.sender = user('some-app[bot]', 'Bot');
    expect(decideTrust('issue_comment', p).reason).toBe("the 'issue_comment' event was sent by the bot some-app[bot], which acts for whoever drives it.");
    expect(decideTrust('push', { ...fixture('push.json'), sender: user('renovate[bot]', 'Bot') }).untrusted).toBe(true);
  });

  it('a comment written by a bot account is untrusted even if a member sent the event', () => {
    const p = fixture('comment-member.json');
    p.comment.user = user('github-actions[bot]', 'Bot');
    expect(decideTrust('issue_comment', p).reason).toContain('the bot github-actions[bot]');
  });

  it('workflow_run: fork head or an outsider-fired upstream is untrusted; a same-repo push is trusted', () => {
    const run = (over: object) => ({ workflow_run: { event: 'push', head_repository: { full_name: 'acme/widgets' }, actor: user('alice'), ...over }, repository: REPO, sender: user('alice') });
    expect(decideTrust('workflow_run', run({})).untrusted).toBe(false);
    expect(decideTrust('workflow_run', run({ event: 'pull_request', head_repository: { full_name: 'evil/widgets' } })).reason).toBe('the upstream run ran code from the fork evil/widgets.');
    expect(decideTrust('workflow_run', run({ event: 'issue_comment' })).reason).toContain("fired by 'issue_comment'");
    expect(decideTrust('workflow_run', run({ actor: user('dependabot[bot]', 'Bot') })).untrusted).toBe(true);
    expect(decideTrust('workflow_run', { repository: REPO, sender: user('alice') }).untrusted).toBe(true);
  });

  it('repository_dispatch and merge_group are untrusted; schedule and workflow_dispatch are trusted', () => {
    expect(decideTrust('repository_dispatch', { client_payload: {}, repository: REPO, sender: user('alice') }).untrusted).toBe(true);
    expect(decideTrust('merge_group', { repository: REPO, sender: user('alice') }).untrusted).toBe(true);
    expect(decideTrust('schedule', { schedule: '0 * * * *', repository: REPO }).untrusted).toBe(false);
    expect(decideTrust('workflow_dispatch', { inputs: {}, repository: REPO, sender: user('alice') }).untrusted).toBe(false);
  });

  it('fails closed: unknown events, missing authors, missing sender, no payload object', () => {
    expect(decideTrust('release', { repository: REPO, sender: user('alice') }).reason).toBe(
      "agent-guard does not know who can write the input of 'release' events, so it assumes anyone.",
    );
    expect(decideTrust('issues', { repository: REPO, sender: user('alice') }).reason).toBe('the payload has no issue, so its author cannot be checked.');
    const noAssoc = fixture('issue-stranger.json');
    delete noAssoc.issue.author_association;
    expect(decideTrust('issues', noAssoc).reason).toContain('has no author_association');
    expect(decideTrust('push', { repository: REPO }).untrusted).toBe(true);
    expect(decideTrust('push', null).untrusted).toBe(true);
    expect(decideTrust('push', [1]).untrusted).toBe(true);
    expect(decideTrust(undefined, fixture('push.json')).untrusted).toBe(true);
  });

  it('payload text in a reason is made inert', () => {
    const p = fixture('issue-stranger.json');
    p.issue.user.login = 'evil\n::add-mask::x <b>';
    const d = decideTrust('issues', p);
    expect(d.reason).not.toMatch(/[\n<>:]{2}|<b>/);
    expect(d.reason).toContain('evil???add-mask??x??b?');
  });
});

describe('readTrustDecision from the runner environment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-event-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads GITHUB_EVENT_NAME and GITHUB_EVENT_PATH', () => {
    const file = path.join(dir, 'push.json');
    fs.copyFileSync(path.join(EVENTS, 'push.json'), file);
    expect(readTrustDecision({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: file }).untrusted).toBe(false);
  });

  it.each([
    [{}, 'GITHUB_EVENT_NAME is not set'],
    [{ GITHUB_EVENT_NAME: 'push' }, 'GITHUB_EVENT_PATH is not set'],
    [{ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '/nonexistent/event.json' }, 'cannot be read (ENOENT)'],
  ])('%j is untrusted: %s', (env, reason) => {
    const d = readTrustDecision(env);
    expect(d.untrusted).toBe(true);
    expect(d.reason).toContain(reason);
  });

  it('a payload that is not JSON is untrusted', () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{"sender": ');
    expect(readTrustDecision({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: file }).reason).toContain('is not valid JSON');
  });
});

describe('untrustedRefusal', () => {
  const untrusted = decideTrust('issues', fixture('issue-stranger.json'));
  const trusted = decideTrust('push', fixture('push.json'));
  const open = { allowHosts: [{ host: 'registry.npmjs.org', port: 443 }], passEnv: ['NODE_ENV'] };
  const closed = { allowHosts: [], passEnv: [] };

  it('refuses allow-hosts and pass-env under untrusted input, naming both and the way out', () => {
    const r = untrustedRefusal(untrusted, open, false, 'allow-on-untrusted: true');
    expect(r).toBe(
      'refused: the input is untrusted (issue #41 was written by drive-by-stranger (author_association NONE), who is not an owner, member or collaborator), ' +
        'and allow-hosts (registry.npmjs.org:443) and pass-env (NODE_ENV) would hand an agent hijacked by that input a way out or a credential; ' +
        'remove them, or set allow-on-untrusted: true if you accept that',
    );
  });

  it('lets them through when trusted or explicitly allowed, and lets a closed run through always', () => {
    expect(untrustedRefusal(trusted, open, false, 'x')).toBeUndefined();
    expect(untrustedRefusal(untrusted, open, true, 'x')).toBeUndefined();
    expect(untrustedRefusal(untrusted, closed, false, 'x')).toBeUndefined();
  });
});
