import { canPass, type Role, type Scenario } from '../../src/analysis/gates';
import { parseExpression } from '../../src/workflow/expression';

function scenario(event: string, attacker: Role[], extra: Partial<Scenario> = {}): Scenario {
  return {
    event,
    actions: { allowed: null, excluded: ['labeled'] },
    attacker: new Set(attacker),
    permissionSteps: new Set(),
    permissionJobs: new Set(),
    ...extra,
  };
}

const outsiderComment = scenario('issue_comment', ['actor', 'comment']);
const outsiderIssue = scenario('issues', ['actor', 'issue']);

function passes(expr: string, s: Scenario): boolean {
  return canPass(parseExpression(expr), s);
}

describe('gates', () => {
  it.each([
    ["github.event.comment.author_association == 'OWNER'", false],
    ["contains(fromJSON('[\"OWNER\",\"MEMBER\",\"COLLABORATOR\"]'), github.event.comment.author_association)", false],
    ["github.event.comment.author_association != 'NONE'", true],
    ["github.event.comment.author_association == 'CONTRIBUTOR'", true],
    ["contains(github.event.comment.body, '@claude')", true],
    ["github.actor == 'maintainer'", false],
    ["github.actor == 'dependabot[bot]'", true],
    ["github.actor != 'maintainer'", true],
    ["contains(fromJSON('[\"alice\",\"bob\"]'), github.actor)", false],
    ["github.event.comment.author_association == 'OWNER' || contains(github.event.comment.body, '@bot')", true],
    ["github.event.comment.author_association == 'OWNER' && contains(github.event.comment.body, '@bot')", false],
    ["!(github.event.comment.author_association == 'OWNER')", true],
    ["github.event_name == 'workflow_dispatch'", false],
    ["github.event_name == 'issue_comment'", true],
    ["github.event.sender.login == 'alice'", false],
    ["github.event.comment.user.login == 'alice'", false],
    ['always()', true],
  ])('%s on an outsider comment → can pass: %s', (expr, expected) => {
    expect(passes(expr, outsiderComment)).toBe(expected);
  });

  it('an association gate on one object does not protect another', () => {
    // The commenter is checked, but the issue author is the attacker in this scenario.
    const issueAuthor = scenario('issue_comment', ['issue']);
    expect(passes("github.event.comment.author_association == 'OWNER'", issueAuthor)).toBe(true);
    expect(passes("github.event.issue.author_association == 'OWNER'", issueAuthor)).toBe(false);
  });

  it('label gates hold when the attacker fires the event, not when a maintainer labels', () => {
    expect(passes("github.event.label.name == 'triage'", outsiderIssue)).toBe(false);
    expect(passes("github.event.label.name == 'triage'", scenario('issues', ['issue']))).toBe(true);
  });

  it('same-repository checks stop fork pull requests', () => {
    const fork = scenario('pull_request_target', ['actor', 'pull_request', 'commit']);
    expect(passes('github.event.pull_request.head.repo.full_name == github.repository', fork)).toBe(false);
    expect(passes('!github.event.pull_request.head.repo.fork', fork)).toBe(false);
    expect(passes('github.event.pull_request.head.repo.fork == false', fork)).toBe(false);
    expect(passes("github.repository == 'org/repo'", fork)).toBe(true);
  });

  it('event action filters follow the scenario', () => {
    const opened = scenario('issues', ['actor', 'issue'], { actions: { allowed: ['opened'], excluded: [] } });
    expect(passes("github.event.action == 'labeled'", opened)).toBe(false);
    expect(passes("github.event.action == 'opened'", opened)).toBe(true);
  });

  it('permission-check outputs stop the attacker', () => {
    const s = scenario('issue_comment', ['actor', 'comment'], { permissionSteps: new Set(['perm']) });
    expect(passes("steps.perm.outputs.has-permission == 'true'", s)).toBe(false);
    expect(passes("steps.other.outputs.ok == 'true'", s)).toBe(true);
  });

  it('coerces as GitHub does: only the empty string is a falsy string, and == converts to numbers', () => {
    const push = scenario('push', []);
    expect(passes("'0'", push)).toBe(true);
    expect(passes("'false'", push)).toBe(true);
    expect(passes("''", push)).toBe(false);
    expect(passes("'' == 0", push)).toBe(true);
    expect(passes('null == 0', push)).toBe(true);
    expect(passes("'0x10' == 16", push)).toBe(true);
    expect(passes("'true' == true", push)).toBe(false);
  });

  it('`||` yields an operand, so an association chain still lets a maintainer through', () => {
    // Evaluating `a || b` as a boolean made this impossible for everyone, hiding the maintainer path.
    const gate = "contains(fromJSON('[\"OWNER\",\"MEMBER\",\"COLLABORATOR\"]'), github.event.comment.author_association || github.event.issue.author_association)";
    expect(passes(gate, outsiderComment)).toBe(false);
    expect(passes(gate, scenario('issue_comment', ['issue']))).toBe(true);
  });

  it('workflow_run.pull_requests is empty for runs from forks', () => {
    const forkRun = scenario('workflow_run', ['actor', 'workflow_run']);
    expect(passes('github.event.workflow_run.pull_requests[0] != null', forkRun)).toBe(false);
    expect(passes('github.event.workflow_run.pull_requests[0].number', forkRun)).toBe(false);
    expect(passes("toJSON(github.event.workflow_run.pull_requests) != '[]'", forkRun)).toBe(true); // not modelled: stays open
    expect(passes('github.event.workflow_run.pull_requests[0] != null', scenario('workflow_run', ['commit']))).toBe(true);
  });

  it('a repository guard holds only when the repository is known to be another one', () => {
    const guard = "github.repository == 'upstream/project'";
    expect(passes(guard, outsiderIssue)).toBe(true);
    expect(passes(guard, { ...outsiderIssue, repository: 'someone/copy' })).toBe(false);
    expect(passes(guard, { ...outsiderIssue, repository: 'Upstream/Project' })).toBe(true);
  });

  it('no condition always passes, and a condition is case-insensitive', () => {
    expect(canPass(null, outsiderComment)).toBe(true);
    expect(passes("github.event.comment.author_association == 'owner'", outsiderComment)).toBe(false);
  });
});
