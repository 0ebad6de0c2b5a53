// Inline ignores: `# agent-guard: ignore[rule-id, other-rule]` (or `ignore[*]`) silences those rules
// for one finding or one step. It is read in three places, so that silencing a finding never means
// editing a script or a prompt:
//   - the finding's own line (the end of a script line, an input, an env entry);
//   - a line of the step that says what it is: `- name:`, `id:`, `uses:`, `run:` (`run: | # …`);
//   - the comment lines directly above the step.
// A rule id that no rule has is an error with its file and line: a typo would otherwise silence
// nothing while looking as if it did.

import { RULE_IDS } from './checks';
import type { Finding, LintError } from './checks/types';
import { unknownRuleMessage } from './config';

const INLINE_IGNORE = /#\s*agent-guard:\s*ignore\[([^\]]*)\]/g;

type LineOf = (file: string, line: number) => string;

/** The rule ids an ignore comment on this line names (empty when there is none). */
function idsOn(line: string): string[] {
  const ids: string[] = [];
  for (const m of line.matchAll(INLINE_IGNORE)) ids.push(...m[1].split(',').map((id) => id.trim()));
  return ids;
}

/** Whether an inline ignore comment silences this finding. */
export function inlineIgnored(f: Finding, lineOf: LineOf): boolean {
  const silences = (file: string, line: number) => idsOn(lineOf(file, line)).some((id) => id === f.rule || id === '*');
  if (silences(f.file, f.line)) return true;
  const at = f.stepAt;
  if (!at) return false;
  if (at.lines.some((l) => silences(at.file, l))) return true;
  // The comment block directly above the step (above its `-` when that stands on a line of its own).
  let above = at.lines[0] - 1;
  if (/^\s*-\s*$/.test(lineOf(at.file, above))) above--;
  for (; above >= 1 && /^\s*#/.test(lineOf(at.file, above)); above--) if (silences(at.file, above)) return true;
  return false;
}

/** Ignore comments in `text` that name a rule no rule has, or none at all. */
export function badInlineIgnores(file: string, text: string): LintError[] {
  if (!text.includes('agent-guard:')) return [];
  const errors: LintError[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(INLINE_IGNORE)) {
      const ids = m[1].split(',').map((id) => id.trim());
      const column = (m.index ?? 0) + 1;
      if (ids.every((id) => id === '')) errors.push({ file, line: i + 1, column, message: 'agent-guard: ignore[] names no rule (give rule ids, or * for all)' });
      for (const id of ids) {
        if (id !== '' && id !== '*' && !RULE_IDS.includes(id)) errors.push({ file, line: i + 1, column, message: `inline ignore: ${unknownRuleMessage(id)}` });
      }
    }
  });
  return errors;
}
