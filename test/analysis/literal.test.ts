import { envValues, expandShell, resolveText, shellWords } from '../../src/analysis/literal';
import { analyse, stepById } from './helpers';

const composite = {
  'w.yml': `
on: issues
env:
  WORKFLOW_MODE: careful
jobs:
  j:
    runs-on: ubuntu-latest
    env:
      PROMPT_DIR: /tmp/prompts
    steps:
      - id: outer
        uses: ./.github/actions/outer
        with:
          tools: "Bash(gh issue view:*),Read"
          prompt-file: /tmp/prompts/triage.md
`,
  '.github/actions/outer/action.yml': `
name: outer
inputs:
  tools: { default: "" }
  prompt-file: { default: "" }
  model: { default: sonnet }
runs:
  using: composite
  steps:
    - id: prepare
      shell: bash
      run: |
        if [ -n "\${{ inputs.prompt-file }}" ]; then
          PROMPT_PATH="\${{ inputs.prompt-file }}"
        else
          PROMPT_PATH=/tmp/default.md
        fi
        echo "PROMPT_PATH=$PROMPT_PATH" >> "$GITHUB_ENV"
    - id: run
      shell: bash
      env:
        KEY: \${{ secrets.KEY }}
      run: claude -p "$(cat \${{ env.PROMPT_PATH }})" \${{ inputs.tools != '' && format('--allowedTools "{0}"', inputs.tools) || '' }} --model \${{ inputs.model }}
`,
};

describe('literal values', () => {
  const a = analyse(composite);
  const run = stepById(a, 'run');
  const scope = { job: run.job, step: run };

  it('follows composite inputs through format, && and ||', () => {
    expect(resolveText("${{ inputs.tools != '' && format('--allowedTools \"{0}\"', inputs.tools) || '' }}", scope)).toEqual(['--allowedTools "Bash(gh issue view:*),Read"']);
    expect(resolveText('--model ${{ inputs.model }}', scope)).toEqual(['--model sonnet']);
  });

  it('follows $GITHUB_ENV writes back to the shell variable and the input it came from (both branches)', () => {
    expect(envValues('PROMPT_PATH', scope).sort()).toEqual(['/tmp/default.md', '/tmp/prompts/triage.md']);
    expect(resolveText('$(cat ${{ env.PROMPT_PATH }})', scope)).toContain('$(cat /tmp/prompts/triage.md)');
  });

  it('reads job and workflow env, and leaves what the repository does not say as written', () => {
    expect(envValues('PROMPT_DIR', scope)).toEqual(['/tmp/prompts']);
    expect(envValues('WORKFLOW_MODE', scope)).toEqual(['careful']);
    expect(resolveText('${{ secrets.KEY }} ${{ github.event.issue.title }}', scope)).toEqual(['${{ secrets.KEY }} ${{ github.event.issue.title }}']);
    expect(envValues('NOT_SET', scope)).toEqual([]);
  });

  it('expands shell variables from the script and the environment', () => {
    const script = { key: {}, text: 'DIR=/work\nclaude -p "$(cat $DIR/p.md)" > "$PROMPT_DIR/out"' };
    expect(expandShell(script.text.split('\n')[1], scope, script)).toEqual(['claude -p "$(cat /work/p.md)" > "/tmp/prompts/out"']);
  });

  it('compares as GitHub does: strings case-insensitively, mixed types as numbers', () => {
    const text = (e: string) => resolveText(`\${{ ${e} }}`, scope)[0];
    expect(text("'Sonnet' == inputs.model")).toBe('true');
    expect(text("'' == 0")).toBe('true');
    expect(text("'0x10' == 16")).toBe('true');
    expect(text("'abc' == 0")).toBe('false');
    expect(text("!inputs.tools")).toBe('false');
    expect(text("startsWith(inputs.tools, 'bash')")).toBe('true');
    expect(text('fromJSON(inputs.tools)')).toBe('${{ fromJSON(inputs.tools) }}');
  });

  it('splits resolved text into shell words', () => {
    expect(shellWords(`--allowedTools "Bash(gh issue view:*),Read" -p 'a b'`)).toEqual(['--allowedTools', 'Bash(gh issue view:*),Read', '-p', 'a b']);
    expect(shellWords('')).toEqual([]);
    expect(shellWords('""')).toEqual(['']);
  });

  it('keeps the number of candidates small', () => {
    const many = Array.from({ length: 8 }, (_, i) => `\${{ env.V${i} }}`).join(' ');
    expect(resolveText(many, scope).length).toBeLessThanOrEqual(6);
  });
});
