// Remote `uses:` references: what they point at, and which ones are worth following. Pure; shared by
// the online pre-pass and the `unresolved-remote` rule.

export interface RemoteRef {
  owner: string;
  repo: string;
  /** Path inside the repository, without leading or trailing slashes ('' for the root). */
  path: string;
  ref: string;
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const SEGMENT = /^[^\s\\?#%]+$/;
const REF = /^[^\s\\~^:?*[\]]{1,255}$/;

/** `owner/repo[/path]@ref` → its parts; null for local (`./`), `docker://`, expressions and malformed text. */
export function parseRemoteUses(uses: string): RemoteRef | null {
  const text = uses.trim();
  if (!text || text.startsWith('.') || isDockerUses(text) || text.includes('${{')) return null;
  const at = text.indexOf('@');
  if (at <= 0) return null;
  const ref = text.slice(at + 1);
  const parts = text.slice(0, at).replace(/\/+$/, '').split('/');
  if (parts.length < 2 || !OWNER.test(parts[0]) || !REPO.test(parts[1]) || parts[1] === '.' || parts[1] === '..') return null;
  const rest = parts.slice(2);
  if (rest.some((p) => !p || p === '.' || p === '..' || !SEGMENT.test(p))) return null;
  if (!REF.test(ref) || ref.includes('..')) return null;
  return { owner: parts[0], repo: parts[1], path: rest.join('/'), ref };
}

export function isDockerUses(uses: string): boolean {
  return /^docker:\/\//i.test(uses.trim());
}

/** A reusable workflow must live in `.github/workflows/` (the runner refuses anything else). */
export function isWorkflowPath(path: string): boolean {
  return /^\.github\/workflows\/[^/]+\.ya?ml$/i.test(path);
}

/**
 * GitHub's own actions (`actions/checkout`, `github/codeql-action`, …): JavaScript actions whose
 * behaviour is known; they run no agent (`actions/ai-inference` is modelled as an agent from
 * rules/agents.yml before this is asked). Not fetched, not reported as unresolved.
 */
const FIRST_PARTY = new Set(['actions', 'github']);

export function isFirstPartyAction(ref: RemoteRef): boolean {
  return FIRST_PARTY.has(ref.owner.toLowerCase());
}

export function isCommitSha(ref: string): boolean {
  return /^[0-9a-f]{40}$/i.test(ref);
}

/** `owner/repo`, lower-cased: GitHub names are case-insensitive. */
export function repoKey(owner: string, repo: string): string {
  return `${owner}/${repo}`.toLowerCase();
}

/** The file a remote `uses:` names, for messages: `owner/repo/path@ref`. */
export function describeRef(ref: RemoteRef, file?: string): string {
  const inner = [ref.path, file].filter(Boolean).join('/');
  return `${ref.owner}/${ref.repo}${inner ? `/${inner}` : ''}@${ref.ref}`;
}
