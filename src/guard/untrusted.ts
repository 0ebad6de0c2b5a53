// Who wrote the input that triggered this run? Read from GITHUB_EVENT_NAME and the payload at
// GITHUB_EVENT_PATH, the way the runner hands them to every step. The answer decides what the
// Action lets the guard open up (allow-hosts, pass-env) and is shown as the `untrusted` output.
//
// Trusted means: everyone who could have written the triggering text has write access or is an
// owner, member or collaborator. Anything else, including a payload we cannot read or an event we do
// not know, is untrusted (fail closed). This is about the triggering input only: an agent that
// fetches issues itself reads outsiders' text whatever triggered it, and lint reports that.

import fs from 'node:fs';

export interface TrustDecision {
  untrusted: boolean;
  /** The event name, or '' when unknown. */
  event: string;
  /** One sentence that says why. */
  reason: string;
}

const TRUSTED_ASSOCIATIONS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);
/** Events only someone with write access (or the repository itself) can fire. */
const WRITE_ONLY_EVENTS = new Set(['push', 'workflow_dispatch', 'schedule']);

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Payload text shown in a reason: logins and repository names, with anything else made inert. */
function show(v: unknown, fallback = 'unknown'): string {
  const s = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  if (s === '') return fallback;
  const clean = s.replace(/[^A-Za-z0-9_.\-/[\]]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 99)}…` : clean;
}

function untrusted(event: string, reason: string): TrustDecision {
  return { untrusted: true, event, reason };
}

function trusted(event: string, reason: string): TrustDecision {
  return { untrusted: false, event, reason };
}

function isBot(user: Obj | undefined): boolean {
  if (!user) return false;
  return str(user.type) === 'Bot' || (str(user.login) ?? '').endsWith('[bot]');
}

interface Author {
  /** e.g. "issue #3", "the comment". */
  what: string;
  item: Obj | undefined;
}

/** The first author who is not an owner, member or collaborator, as a reason; undefined if none. */
function outsiderAmong(authors: Author[]): string | undefined {
  for (const { what, item } of authors) {
    if (!item) return `the payload has no ${what}, so its author cannot be checked`;
    const login = show(obj(item.user)?.login);
    const assoc = str(item.author_association);
    if (!assoc) return `${what} by ${login} has no author_association`;
    if (!TRUSTED_ASSOCIATIONS.has(assoc)) return `${what} was written by ${login} (author_association ${show(assoc)}), who is not an owner, member or collaborator`;
    if (isBot(obj(item.user))) return `${what} was written by the bot ${login}, which writes for whoever drives it`;
  }
  return undefined;
}

function authorsLine(authors: Author[]): string {
  return authors.map(({ what, item }) => `${what} by ${show(obj(item?.user)?.login)} (${show(item?.author_association)})`).join(' and ');
}

function numbered(kind: string, item: Obj | undefined): string {
  const n = item?.number;
  return typeof n === 'number' ? `${kind} #${n}` : kind;
}

/** A pull request's head is a fork (or gone) when its repository is not the base repository. */
function forkReason(pr: Obj | undefined, repoName: string | undefined): string | undefined {
  if (!pr) return 'the payload has no pull_request, so its head cannot be checked';
  const head = obj(obj(pr.head)?.repo);
  const base = str(obj(obj(pr.base)?.repo)?.full_name) ?? repoName;
  const headName = str(head?.full_name);
  if (!headName) return `the head repository of ${numbered('pull request', pr)} is gone or unknown (a deleted fork)`;
  if (!base) return `the payload names no base repository for ${numbered('pull request', pr)}`;
  if (headName !== base) return `${numbered('pull request', pr)} comes from the fork ${show(headName)}`;
  return undefined;
}

/** Decide from an event name and its parsed payload. */
export function decideTrust(eventName: string | undefined, payload: unknown): TrustDecision {
  const event = eventName ?? '';
  if (!event) return untrusted('', 'GITHUB_EVENT_NAME is not set, so who wrote the input cannot be checked.');
  const p = obj(payload);
  if (!p) return untrusted(event, `the '${show(event)}' event payload is not a JSON object, so who wrote the input cannot be checked.`);
  const repoName = str(obj(p.repository)?.full_name);
  const sender = obj(p.sender);
  if (isBot(sender)) {
    return untrusted(event, `the '${show(event)}' event was sent by the bot ${show(sender?.login)}, which acts for whoever drives it.`);
  }

  if (WRITE_ONLY_EVENTS.has(event)) {
    if (event === 'schedule') {
      return trusted(event, "'schedule' is fired by the repository's own cron and carries no outsider text (what the agent fetches itself is not covered).");
    }
    if (!sender) return untrusted(event, `the '${event}' payload names no sender.`);
    return trusted(event, `'${event}' needs write access, and was fired by ${show(sender.login)}.`);
  }

  switch (event) {
    case 'issues':
    case 'issue_comment':
    case 'discussion':
    case 'discussion_comment': {
      const isDiscussion = event.startsWith('discussion');
      const parent = obj(isDiscussion ? p.discussion : p.issue);
      const parentWhat = numbered(isDiscussion ? 'discussion' : obj(parent?.pull_request) ? 'pull request' : 'issue', parent);
      const authors: Author[] = [];
      if (event.endsWith('_comment')) authors.push({ what: 'the comment', item: obj(p.comment) });
      authors.push({ what: parentWhat, item: parent });
      const outsider = outsiderAmong(authors);
      if (outsider) return untrusted(event, `${outsider}.`);
      return trusted(event, `${authorsLine(authors)}: every author is an owner, member or collaborator.`);
    }
    case 'pull_request':
    case 'pull_request_target':
    case 'pull_request_review':
    case 'pull_request_review_comment': {
      const pr = obj(p.pull_request);
      const fork = forkReason(pr, repoName);
      if (fork) return untrusted(event, `${fork}.`);
      const authors: Author[] = [];
      if (event === 'pull_request_review') authors.push({ what: 'the review', item: obj(p.review) });
      if (event === 'pull_request_review_comment') authors.push({ what: 'the review comment', item: obj(p.comment) });
      authors.push({ what: numbered('pull request', pr), item: pr });
      const outsider = outsiderAmong(authors);
      if (outsider) return untrusted(event, `${outsider}.`);
      return trusted(event, `${authorsLine(authors)}, from a branch of this repository: every author is an owner, member or collaborator.`);
    }
    case 'workflow_run': {
      const run = obj(p.workflow_run);
      if (!run) return untrusted(event, 'the payload has no workflow_run, so the upstream run cannot be checked.');
      const head = str(obj(run.head_repository)?.full_name);
      if (!head || !repoName) return untrusted(event, 'the upstream run names no head repository, so where its code came from cannot be checked.');
      if (head !== repoName) return untrusted(event, `the upstream run ran code from the fork ${show(head)}.`);
      for (const who of [obj(run.actor), obj(run.triggering_actor)]) {
        if (isBot(who)) return untrusted(event, `the upstream run was started by the bot ${show(who?.login)}, which acts for whoever drives it.`);
      }
      const upstream = str(run.event) ?? '';
      if (WRITE_ONLY_EVENTS.has(upstream) || upstream === 'pull_request') {
        return trusted(event, `the upstream run was a '${show(upstream)}' on a branch of this repository.`);
      }
      return untrusted(event, `the upstream run was fired by '${show(upstream, 'an unknown event')}', whose input outsiders may write.`);
    }
    case 'repository_dispatch':
      return untrusted(event, "'repository_dispatch' carries whatever payload the API caller chose.");
    case 'merge_group':
      return untrusted(event, "'merge_group' runs pull-request code, which outsiders may have written.");
    default:
      return untrusted(event, `agent-guard does not know who can write the input of '${show(event)}' events, so it assumes anyone.`);
  }
}

/** Read GITHUB_EVENT_NAME and GITHUB_EVENT_PATH; anything missing or unreadable is untrusted. */
export function readTrustDecision(env: NodeJS.ProcessEnv): TrustDecision {
  const event = env.GITHUB_EVENT_NAME;
  if (!event) return decideTrust(undefined, undefined);
  const file = env.GITHUB_EVENT_PATH;
  if (!file) return untrusted(event, 'GITHUB_EVENT_PATH is not set, so who wrote the input cannot be checked.');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return untrusted(event, `the event payload ${show(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}), so who wrote the input cannot be checked.`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return untrusted(event, `the event payload ${show(file)} is not valid JSON, so who wrote the input cannot be checked.`);
  }
  return decideTrust(event, payload);
}

/**
 * Under untrusted input, the openings a hijacked agent could use to carry data out (egress to named
 * hosts) or to reach credentials (variables passed in) are refused unless the maintainer said so.
 * Returns the refusal, one line, or undefined when the run may go ahead.
 */
export function untrustedRefusal(
  decision: TrustDecision,
  opts: { allowHosts: { host: string; port: number }[]; passEnv: string[] },
  allowOnUntrusted: boolean,
  override: string,
): string | undefined {
  if (!decision.untrusted || allowOnUntrusted) return undefined;
  const opened: string[] = [];
  if (opts.allowHosts.length) opened.push(`allow-hosts (${opts.allowHosts.map((h) => `${h.host}:${h.port}`).join(', ')})`);
  if (opts.passEnv.length) opened.push(`pass-env (${opts.passEnv.join(', ')})`);
  if (!opened.length) return undefined;
  return (
    `refused: the input is untrusted (${decision.reason.replace(/\.$/, '')}), and ${opened.join(' and ')} would hand an agent ` +
    `hijacked by that input a way out or a credential; remove them, or set ${override} if you accept that`
  );
}
