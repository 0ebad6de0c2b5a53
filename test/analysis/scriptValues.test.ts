import { canBeTruthy, type Role, type Scenario } from '../../src/analysis/gates';
import { scriptValues, type ScriptEnv } from '../../src/analysis/scriptValues';
import { konst, op, type Sym } from '../../src/analysis/symbolic';
import { parseExpression } from '../../src/workflow/expression';

function scenario(event: string, attacker: Role[], allowed: string[] | null = null): Scenario {
  return { event, actions: { allowed, excluded: [] }, attacker: new Set(attacker), permissionSteps: new Set(), permissionJobs: new Set() };
}

const expr = (text: string): Sym => ({ k: 'expr', expr: parseExpression(text) });

function read(script: string, env: Record<string, Sym> = {}, stringResult = false) {
  const scriptEnv: ScriptEnv = { env: (n) => env[n], stringResult };
  const values = scriptValues(script, scriptEnv);
  if (!values) throw new Error('did not parse');
  return values;
}

/** Whether the output can equal `value` in the scenario. */
function canBe(output: Sym, value: string, s: Scenario): boolean {
  return canBeTruthy(op('==', output, konst(value)), s);
}

describe('scriptValues', () => {
  const router = `
    const kind = process.env.KIND;
    if (kind === 'issues.opened') {
      core.setOutput('task', 'label');
      return;
    } else if (['issue_comment.created'].includes(kind) && process.env.BODY.startsWith('/fix')) {
      core.setOutput('task', 'fix');
    }
    core.setOutput('seen', kind);
  `;
  const env = { KIND: op('format', konst('{0}.{1}'), expr('github.event_name'), expr('github.event.action')), BODY: expr('github.event.comment.body') };

  it('sets an output only on the branches that reach the call', () => {
    const task = read(router, env).outputs.get('task')!;
    const issues = scenario('issues', ['actor', 'issue'], ['opened']);
    expect(canBe(task, 'label', issues)).toBe(true);
    expect(canBe(task, 'fix', issues)).toBe(false);
    const comment = scenario('issue_comment', ['actor', 'comment'], ['created']);
    expect(canBe(task, 'fix', comment)).toBe(true);
    expect(canBe(task, 'label', comment)).toBe(false);
  });

  it('an early return ends the branch: later outputs are not set on it', () => {
    // `seen` is set only when the first branch did not return; on issues.opened it stays empty.
    const seen = read(router, env).outputs.get('seen')!;
    expect(canBe(seen, 'issues.opened', scenario('issues', ['actor'], ['opened']))).toBe(false);
    expect(canBe(seen, '', scenario('issues', ['actor'], ['opened']))).toBe(true);
  });

  it('a returned string is JSON-encoded unless result-encoding is string', () => {
    const script = "return 'ok';";
    expect(canBe(read(script).result, '"ok"', scenario('push', []))).toBe(true);
    expect(canBe(read(script).result, 'ok', scenario('push', []))).toBe(false);
    expect(canBe(read(script, {}, true).result, 'ok', scenario('push', []))).toBe(true);
  });

  it('an allowlist read from a file admits no outsider login, except from the pull request that edits it', () => {
    const script = `
      const fs = require('fs');
      let users = [];
      try { users = JSON.parse(fs.readFileSync('.github/users.json', 'utf8')); } catch (e) { users = ['lead']; }
      return { ok: users.includes(context.payload.comment?.user.login ?? context.payload.pull_request.user.login) };
    `;
    const ok = op('get', op('fromjson', read(script).result), konst('ok'));
    expect(canBeTruthy(ok, scenario('issue_comment', ['actor', 'comment']))).toBe(false);
    expect(canBeTruthy(ok, scenario('issue_comment', ['issue']))).toBe(true);
    expect(canBeTruthy(ok, scenario('pull_request', ['actor', 'pull_request']))).toBe(true);
  });

  it('follows fields into objects, loops and destructuring', () => {
    const script = `
      const { data } = await github.rest.pulls.get({ owner: 'o', repo: 'r', pull_number: 1 });
      let first = null;
      for (const c of data.commits_list) { first = c; }
      return { sha: data.head.sha, number: data.number, title: data.title, first };
    `;
    const result = read(script).result;
    // Fields the script picks from API data keep their kind: the title is fetched text, the number is not.
    const field = (name: string) => op('get', op('fromjson', result), konst(name));
    expect(canBeTruthy(op('==', field('number'), konst('x')), scenario('push', []))).toBe(true); // unknown value
    expect(read(script).result.k).toBe('oneOf');
  });

  it('returns null for scripts that do not parse, and survives templates in code', () => {
    expect(scriptValues('if (', { env: () => undefined, stringResult: false })).toBeNull();
    const values = read("const n = ${{ github.event.issue.number }};\nreturn n;");
    expect(values.result.k).toBe('oneOf');
  });
});
