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
  return foldRelayedIntoOutput(findings.filter((f) => !folded.has(f)));
}

const RELAY = /^the model's answer can repeat its input/;

/**
 * Folds a template injection whose text reached the script only by an agent's answer repeating it
 * into the ai-output-unsafe finding on the same line: both say "the model's answer runs as code".
 */
function foldRelayedIntoOutput(findings: Finding[]): Finding[] {
  const outputs = new Map<string, Finding>();
  for (const f of findings) if (f.rule === 'ai-output-unsafe') outputs.set(`${f.file}\u0000${f.line}\u0000${f.column}`, f);
  const folded = new Set<Finding>();
  for (const t of findings) {
    if (t.rule !== 'template-injection' || !t.path.some((h) => RELAY.test(h.note))) continue;
    const o = outputs.get(`${t.file}\u0000${t.line}\u0000${t.column}`);
    if (!o || severityRank(t.severity) > severityRank(o.severity)) continue;
    const source = /^(.*?) is expanded into /.exec(t.message)?.[1];
    if (source) o.message = `${o.message.replace(/\.$/, '')}; the answer can repeat ${source}.`;
    folded.add(t);
  }
  return findings.filter((f) => !folded.has(f));
}
