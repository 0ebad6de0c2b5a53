import { runtimeFetch, scriptFacts, shellVariables } from '../../src/analysis/shell';

describe('shell facts', () => {
  it('finds outputs, env and files written, with the text they are built from', () => {
    const script = [
      'echo "a=$X" >> "$GITHUB_OUTPUT"',
      '{',
      '  echo "b<<EOF"',
      '  cat body.txt',
      '  echo EOF',
      '} >> $GITHUB_OUTPUT',
      'echo "NAME=v" >> $GITHUB_ENV',
      'cat > /tmp/prompt.txt <<EOF',
      'Issue: ${{ github.event.issue.title }}',
      'EOF',
      'VAR=$(gh issue view 1)',
    ].join('\n');
    const facts = scriptFacts({}, script);
    expect(facts.outputs.map((o) => o.name).sort()).toEqual(['a', 'b']);
    expect(facts.outputs.find((o) => o.name === 'b')!.text).toContain('cat body.txt');
    expect(facts.env.map((e) => e.name)).toEqual(['NAME']);
    expect(facts.files.map((f) => f.path)).toEqual(['/tmp/prompt.txt']);
    expect(facts.files[0].text).toContain('github.event.issue.title');
    expect(facts.assignments.map((a) => a.name)).toEqual(['VAR']);
  });

  it('reads shell variables', () => {
    expect(shellVariables('echo $A ${B} ${C:-x} $1').map((v) => v.name)).toEqual(['A', 'B', 'C']);
  });

  it('recognises run-time fetches of outsider text, and what is not one', () => {
    expect(runtimeFetch('gh issue view 12 --json body')).toMatchObject({ labelGated: false });
    expect(runtimeFetch('gh issue list --json number')).toBeNull();
    expect(runtimeFetch('gh issue list --label agent-review --json number,title')).toMatchObject({ labelGated: true });
    expect(runtimeFetch('gh api repos/o/r/issues/1/comments')).not.toBeNull();
    expect(runtimeFetch('jq .issue.body "$GITHUB_EVENT_PATH"')).not.toBeNull();
    expect(runtimeFetch('npm test')).toBeNull();
  });
});
