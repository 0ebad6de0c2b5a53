// `--grant KIND[=VALUES][;CAP=N]...` as written on the command line or in the Action's `grants` input.
//   comment                       comment on the triggering issue or PR, edit the agent's own comments
//   label=bug,needs triage        add or remove only these labels on the triggering issue or PR
//   review[=comment,approve]      a review (events from the list) and inline comments on the triggering PR
//   pull-request[=src/**,docs/**] the agent's changes under these globs, as a new branch and pull request
//   update-comment[=ID]           the tracking comment (ID, or CLAUDE_COMMENT_ID from the guard's environment)
// Caps override rules/grants.yml: `comment;max=1;max-bytes=4000`.
import { GuardError } from '../errors';
import { GRANT_KINDS, type GrantKind, grantRules } from './rules';

export interface Grant {
  kind: GrantKind;
  /** Labels, review events or path globs; empty when the kind takes none or uses its default. */
  values: string[];
  caps: Record<string, number>;
  /** update-comment=ID */
  commentId?: number;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

export function parseGrant(text: string): Grant {
  const [head, ...capParts] = text.split(';').map((p) => p.trim());
  const eq = head.indexOf('=');
  const kindText = (eq < 0 ? head : head.slice(0, eq)).trim();
  if (!(GRANT_KINDS as readonly string[]).includes(kindText)) {
    throw new GuardError('usage', `--grant "${printableSpec(text)}": unknown grant "${printableSpec(kindText)}" (known: ${GRANT_KINDS.join(', ')})`);
  }
  const kind = kindText as GrantKind;
  const rule = grantRules().grants[kind];
  const values = eq < 0 ? [] : head.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  const where = `--grant ${kind}`;
  if (values.some((v) => CONTROL.test(v))) throw new GuardError('usage', `${where}: a value holds a control character`);
  const grant: Grant = { kind, values, caps: { ...rule.caps } };
  switch (kind) {
    case 'label':
      if (values.length === 0) throw new GuardError('usage', `${where} needs the labels it may set: label=bug,question`);
      if (values.some((v) => v.length > 100)) throw new GuardError('usage', `${where}: a label name is over 100 characters`);
      break;
    case 'review':
      for (const v of values) if (!rule.values!.includes(v)) throw new GuardError('usage', `${where}: "${printableSpec(v)}" is not a review event (${rule.values!.join(', ')})`);
      if (values.length === 0) grant.values = [...rule.defaultValues!];
      break;
    case 'pull-request':
      for (const v of values) {
        if (v.startsWith('/') || v.split('/').includes('..')) throw new GuardError('usage', `${where}: glob "${printableSpec(v)}" must be relative to the repository`);
      }
      break;
    case 'update-comment':
      if (values.length > 1 || (values.length === 1 && !/^[1-9][0-9]{0,15}$/.test(values[0]))) {
        throw new GuardError('usage', `${where} takes at most one comment id: update-comment=1234`);
      }
      if (values.length === 1) grant.commentId = Number(values[0]);
      break;
    default:
      if (values.length > 0) throw new GuardError('usage', `${where} takes no values`);
  }
  for (const part of capParts) {
    if (!part) continue;
    const m = /^([a-z-]+)=([0-9]{1,12})$/.exec(part);
    if (!m || !(m[1] in rule.caps)) {
      throw new GuardError('usage', `${where}: "${printableSpec(part)}" is not a cap of ${kind} (${Object.keys(rule.caps).join(', ')}, each =N)`);
    }
    grant.caps[m[1]] = Number(m[2]);
  }
  return grant;
}

/** Parse one more --grant into `grants`; a kind given twice is an error (its values belong in one). */
export function addGrant(grants: Grant[], text: string): void {
  const grant = parseGrant(text);
  if (grants.some((g) => g.kind === grant.kind)) throw new GuardError('usage', `--grant ${grant.kind} given twice; put all its values in one`);
  grants.push(grant);
}

function printableSpec(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
