// One line, one source, one finding. A run script that expands outsider text into an agent's command
// line is a prompt injection (the agent reads it) and a template injection (the shell runs it first)
// at once: reported as two criticals on the same line, it reads as two problems. It is one, with two
// fixes: reported under the agent rule, unless the configuration made that one the less severe.

import { severityRank, type Finding, type PathHop } from './types';

/** The source a path starts from, as its first hop says it (`github.event.issue.title is outsider-controlled …`), past the call chain. */
function sourceKey(path: PathHop[]): string {
  return path.find((h) => !/^job '[^']*' calls /.test(h.note))?.note ?? '';
}

/** Folds a template-injection and the prompt-injection of the same text on the same line into one finding. */
export function foldSameSource(findings: Finding[]): Finding[] {
  const key = (f: Finding) => `${f.file}\u0000${f.line}\u0000${sourceKey(f.path)}`;
  const prompts = new Map<string, Finding>();
  for (const f of findings) if (f.rule === 'prompt-injection') prompts.set(key(f), f);
  const folded = new Set<Finding>();
  for (const t of findings) {
    const p = t.rule === 'template-injection' ? prompts.get(key(t)) : undefined;
    if (!p || folded.has(p)) continue;
    const shell = t.sink ?? 'the script';
    const agent = p.sink ?? 'the agent';
    if (severityRank(t.severity) > severityRank(p.severity)) {
      t.message = `${t.message.replace(/\.$/, '')}; it also reaches ${agent}.`;
      t.fix = `${t.fix} ${p.fix}`;
      folded.add(p);
    } else {
      p.message = `${p.message.replace(/\.$/, '')}; it is also expanded into ${shell}, where the shell runs it before the agent starts.`;
      p.fix = `${t.fix} ${p.fix}`;
      folded.add(t);
    }
  }
  return findings.filter((f) => !folded.has(f));
}
