import { shellCapabilities } from '../analysis/capabilities';
import type { StepInstance } from '../analysis/instances';
import { reachOf } from '../analysis/reach';
import { severityFor } from '../analysis/severity';
import { workspaceChannels } from '../analysis/sites';
import { docsUrl, type Check } from './context';
import { capabilityList, jobAndStep, reachText, stepLocation, surer } from './common';
import type { Finding } from './types';

/** Commands that run code from the workspace (package scripts, build files, local scripts). */
const RUNS_WORKSPACE_CODE =
  /(^|[\s;&|(])(npm|npx|yarn|pnpm|bun|bunx|node|deno|make|cmake|pip3?|python3?|uv|poetry|tox|pytest|go|cargo|mvn|gradle|\.\/gradlew|ant|rake|bundle|ruby|composer|php|dotnet|docker\s+(build|compose)|bash|sh|zsh|pwsh|\.\/[\w./-]+)(\s|$)/m;

export const untrustedCheckout: Check = {
  meta: {
    id: 'untrusted-checkout',
    title: "A privileged job checks out an outsider's pull request and runs code from it",
    severity: 'critical',
    docs: docsUrl('untrusted-checkout'),
    help:
      "Under pull_request_target or workflow_run the job has the base repository's secrets and a write token. After checking out the pull request's head, any build, test or install step runs the attacker's code (package.json scripts, Makefiles, conftest.py, local actions) — and any AI tool reads the attacker's CLAUDE.md, AGENTS.md and .mcp.json. " +
      'Build and test untrusted code on `pull_request` (no secrets), and pass results to a privileged `workflow_run` job as data only.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    const sites = new Set(ctx.sites.map((s) => s.step));
    const instructionFiles = [...new Set(ctx.engine.agentsData.clis.flatMap((c) => c.instructionFiles))].filter((f) => f.length > 4);
    for (const step of ctx.steps) {
      const runsCode = runsWorkspaceCode(step, instructionFiles);
      if (!runsCode || sites.has(step)) continue; // agent steps are reported by untrusted-instructions
      const channel = workspaceChannels(step)[0];
      if (!channel) continue;
      const taint = channel.taints[0];
      const reach = reachOf(taint.origin, step);
      // A maintainer's label or approval before fork code runs is a gate with a race (the author
      // pushes after the label): reported too, at the severity a maintainer-gated path gets.
      if (reach.level !== 'outsider' && reach.level !== 'maintainer') continue;
      const caps = shellCapabilities(step);
      const severity = severityFor(reach.level, caps);
      if (!severity) continue;
      const at = step.step.run?.start ?? step.step.uses?.start ?? step.step.node.start;
      findings.push({
        rule: 'untrusted-checkout',
        severity,
        confidence: runsCode === 'build' ? surer('high', reach) : 'medium',
        ...stepLocation(step, at),
        ...jobAndStep(step),
        message:
          runsCode === 'ai-config'
            ? `step '${step.step.label}' feeds AI instruction or MCP files from the pull request's checkout to a tool: ${reachText(reach)}.`
            : `step '${step.step.label}' runs code from the pull request's checkout: ${reachText(reach.level === 'maintainer' ? { ...reach, how: `${maintainerGate(reach.how)}; the author can push new code after that` } : reach)}.`,
        path: [...step.job.via, ...taint.hops, { ...stepLocation(step, at), note: 'runs code the pull request controls' }],
        capabilities: capabilityList(caps),
        holder: 'step',
        fix: "Check out the base branch (the default), or run this on `pull_request` where fork runs have no secrets; if you must read the PR's files, check them out into a subdirectory and never execute them. Set `persist-credentials: false`.",
      });
    }
    return findings;
  },
};

/** "only a maintainer's 'pull_request_target' starts it, but over …" → the gate part. */
function maintainerGate(how: string): string {
  return how.replace(/, but over .*$/, '');
}

function runsWorkspaceCode(step: StepInstance, instructionFiles: string[]): 'build' | 'local-action' | 'ai-config' | null {
  const uses = step.step.uses?.text ?? '';
  if (uses.startsWith('./')) return 'local-action';
  const run = step.step.run?.text;
  if (!run) return null;
  if (RUNS_WORKSPACE_CODE.test(run)) return 'build';
  // CLAUDE.md, AGENTS.md, .mcp.json, .claude/ … read from the checkout and handed to some tool. A
  // file read from another commit (`git show origin/main:CLAUDE.md`) is that commit's, not the
  // pull request's: only the working tree, or a ref naming the head, is the author's text.
  const fromTree = run.replace(GIT_SHOW_FROM_REF, (read, ref: string) => (/head/i.test(ref) ? read : ''));
  return instructionFiles.some((f) => fromTree.includes(f.replace(/\/$/, ''))) ? 'ai-config' : null;
}

/** `git show <ref>:<path>` (also `git cat-file -p`): group 1 is the ref. */
const GIT_SHOW_FROM_REF = /\bgit\s+(?:show|cat-file\s+(?:-p|blob))\s+["']?([^\s"':]+):[^\s"'>|;&]*/g;
