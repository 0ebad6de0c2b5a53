// Other analysers' fixtures: the AI-specific ones are found; the classic-injection regression sets
// never crash the linter and never get an AI-agent finding (they contain no agents).
import fs from 'node:fs';
import path from 'node:path';
import { lint } from '../../src/lint';
import { SHARED, AGENT_RULES, corpusPresent, describeFindings, lintFile } from './helpers';

const present = corpusPresent('peers');

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

(present ? describe : describe.skip)('peer corpora', () => {
  it('runner-guard: AI config read from a fork checkout under pull_request_target', () => {
    // runner-guard labels this a fork checkout, but it checks out `ref: head.ref` with no `repository:`,
    // and actions/checkout's `repository` defaults to github.repository: the base repository's branch
    // of that name (a writer's, or none), never the fork's code. With the head repository named, it is.
    const file = path.join(SHARED, 'peers/runner-guard/ai-config-attack.yml');
    const asPublished = lintFile(file).findings.filter((f) => f.rule === 'untrusted-checkout');
    if (asPublished.length) throw new Error(describeFindings(asPublished));
    const text = fs.readFileSync(file, 'utf8').replace(
      /( +)ref: \$\{\{ github\.event\.pull_request\.head\.ref \}\}/,
      '$1ref: ${{ github.event.pull_request.head.ref }}\n$1repository: ${{ github.event.pull_request.head.repo.full_name }}',
    );
    expect(text).toContain('head.repo.full_name');
    const { findings } = lint({ paths: [], files: [{ path: '.github/workflows/ai-config-attack.yml', text }] });
    const hits = findings.filter((f) => f.rule === 'untrusted-checkout' && f.severity === 'critical');
    if (!hits.length) throw new Error(describeFindings(findings));
    expect(hits.some((f) => /AI instruction or MCP files/.test(f.message))).toBe(true);
  });

  it('sisakulint: the Clinejection reproduction is critical', () => {
    const { findings } = lintFile(path.join(SHARED, 'peers/sisakulint/clinejection-vulnerable.yaml'));
    expect(findings.some((f) => f.rule === 'prompt-injection' && f.severity === 'critical')).toBe(true);
    expect(findings.some((f) => f.rule === 'agent-gate-disabled')).toBe(true);
  });

  // sisakulint's real-advisory reproductions: where its docs expect code injection, we report template
  // injection at the same level (critical for privileged triggers, medium for fork pull requests); the
  // "safe" variants move the expansion into env:, so none of them expands outsider text directly.
  // (One safe variant still expands a step output derived from github.head_ref into run: — a real
  // injection through $GITHUB_OUTPUT, which we do report; hence "directly".)
  const readme = present ? fs.readFileSync(path.join(SHARED, 'peers/sisakulint/README.md'), 'utf8') : '';
  const injections = [...readme.matchAll(/^\| `advisory\/(GHSA-[\w-]+-vulnerable\.yaml)` \| expected rules per docs: .*code-injection-(critical|medium)/gm)].map((m) => [m[1], m[2]] as const);

  it('reads the advisory expectations', () => expect(injections.length).toBeGreaterThanOrEqual(10));

  it.each(injections)('sisakulint advisory %s: template-injection %s', (file, level) => {
    const { findings } = lintFile(path.join(SHARED, 'peers/sisakulint/advisory', file));
    const hits = findings.filter((f) => f.rule === 'template-injection');
    if (!hits.some((f) => f.severity === level)) throw new Error(describeFindings(findings));
    const safe = lintFile(path.join(SHARED, 'peers/sisakulint/advisory', file.replace('-vulnerable', '-safe'))).findings;
    const direct = safe.filter((f) => f.rule === 'template-injection' && f.path.length === 1);
    if (direct.length) throw new Error(describeFindings(direct));
  });

  it.each(['zizmor', 'poutine', 'scorecard', 'actionlint', 'sisakulint/advisory', 'sisakulint/ghsl'])('%s: no crash, no AI-agent finding', (sub) => {
    const dir = path.join(SHARED, 'peers', sub);
    if (!fs.existsSync(dir)) return;
    const files = yamlFilesUnder(dir);
    expect(files.length).toBeGreaterThan(0);
    const result = lint({ paths: files });
    expect(result.errors.filter((e) => /internal error/.test(e.message))).toEqual([]);
    const agent = result.findings.filter((f) => AGENT_RULES.includes(f.rule));
    if (agent.length) throw new Error(describeFindings(agent));
  });
});
