// Text the agent asks the guard to publish (comment, review, pull request title and body). Refused when
// it carries a secret the guard knows (raw, base64 at any alignment, hex, URL-encoded, or split with
// invisible characters), something shaped like a credential, or more than the size or mention caps.
// Otherwise published with what would act on others made inert: `@` mentions (notifications) and
// line-leading slash commands (bots, workflows) are wrapped in code spans, and links and images to
// hosts outside GitHub are defanged (`https[:]//evil[.]example/…`) unless --allow-links.
//
// Neutralising is idempotent: the guard checks deferred text again at apply time and must get the
// same text back.

export interface TextPolicy {
  secrets: string[];
  credentialShapes: { name: string; pattern: RegExp }[];
  githubHosts: string[];
  allowLinks: boolean;
  maxBytes: number;
  maxMentions?: number;
}

export type TextVerdict = { ok: true; text: string } | { ok: false; reason: string };

const MIN_FORM_LENGTH = 8;
// Invisible characters an agent could use to split a secret: format characters and zero-width spaces.
const INVISIBLE = /[\p{Cf}\u200b-\u200d\u2060\ufeff]/gu;

/** The forms a secret can take in published text. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase(), encodeURIComponent(secret)]);
  // Base64 at each of the three alignments it can start at inside a longer encoded text: encode behind
  // 0, 1 or 2 filler bytes and keep only the characters that depend on the secret alone.
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const skip = [0, 2, 3][pad];
    const whole = Math.floor((pad + bytes.length) / 3) * 4;
    const core = encoded.slice(skip, whole);
    if (core.length >= MIN_FORM_LENGTH) {
      forms.add(core);
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...forms].filter((f) => f.length >= MIN_FORM_LENGTH);
}

function percentDecoded(text: string): string {
  return text.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Why the text may not be published, or undefined. Secrets and credential shapes only. */
export function findSecret(text: string, secrets: string[], shapes: TextPolicy['credentialShapes']): string | undefined {
  const views = [text, text.replace(INVISIBLE, '')];
  views.push(percentDecoded(views[1]));
  for (const secret of secrets) {
    if (secret.length < MIN_FORM_LENGTH) continue;
    for (const form of secretForms(secret)) {
      if (views.some((v) => v.includes(form))) return 'it carries a secret the guard holds';
    }
  }
  for (const shape of shapes) {
    if (views.some((v) => shape.pattern.test(v))) return `it carries something shaped like a credential (${shape.name})`;
  }
  return undefined;
}

const MENTION = /(^|[^\w`/@.-])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9_.-]+)?)(?![\w`@-])/g;
const SLASH_COMMAND = /^([ \t>]*)\/([A-Za-z][\w-]*)/gm;
// A scheme URL, a protocol-relative `//host` (markdown and HTML targets) or a `www.` autolink. The host
// stops at `[` so that defanged text (`evil[.]example`) is never defanged twice.
const URL_LIKE = /((?:[a-z][a-z0-9+.-]*:)?\/\/|\bwww\.)(\[[0-9A-Fa-f:.]+\]|[^\s/?#<>"'`)\]\\[]+)([^\s<>"'`)\]]*)/gi;

export function countMentions(text: string): number {
  return [...text.matchAll(MENTION)].length;
}

function hostAllowed(host: string, githubHosts: string[]): boolean {
  const h = host.toLowerCase().replace(/^[^@]*@/, '').replace(/:[0-9]*$/, '').replace(/\.$/, '');
  return githubHosts.some((g) => (g.startsWith('*.') ? h.endsWith(g.slice(1)) : h === g));
}

function defangLinks(text: string, githubHosts: string[]): string {
  return text.replace(URL_LIKE, (whole, lead: string, host: string, rest: string) => {
    const isWww = lead.toLowerCase() === 'www.';
    const fullHost = isWww ? `www.${host}` : host;
    // A bare `//word` is a path (`a//b`), not a host; anything with a scheme is a link, numeric hosts included.
    if (lead === '//' && /^[A-Za-z_-]+$/.test(host)) return whole;
    if (hostAllowed(fullHost, githubHosts)) return whole;
    const safeHost = fullHost.replace(/[[\]]/g, '').replace(/[.%:]/g, (c) => `[${c}]`);
    if (isWww) return safeHost + rest;
    const safeLead = lead === '//' ? '[//]' : lead.replace('://', '[:]//');
    return safeLead + safeHost + rest;
  });
}

/** Mentions and slash commands wrapped in code spans, foreign links defanged. */
export function neutralise(text: string, githubHosts: string[], allowLinks: boolean): string {
  let out = text.replace(MENTION, (_m, before: string, who: string) => `${before}\`@${who}\``);
  out = out.replace(SLASH_COMMAND, (_m, lead: string, command: string) => `${lead}\`/${command}\``);
  if (!allowLinks) out = defangLinks(out, githubHosts);
  return out;
}

export function checkText(text: string, policy: TextPolicy, what: string): TextVerdict {
  if (typeof text !== 'string') return { ok: false, reason: `${what} is not text` };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > policy.maxBytes) return { ok: false, reason: `${what} is ${bytes} bytes, over the cap of ${policy.maxBytes}` };
  if (text.includes('\u0000')) return { ok: false, reason: `${what} holds a NUL byte` };
  const secret = findSecret(text, policy.secrets, policy.credentialShapes);
  if (secret) return { ok: false, reason: `${what} refused: ${secret}` };
  const mentions = countMentions(text);
  if (policy.maxMentions !== undefined && mentions > policy.maxMentions) {
    return { ok: false, reason: `${what} mentions ${mentions} users or teams, over the cap of ${policy.maxMentions}` };
  }
  return { ok: true, text: neutralise(text, policy.githubHosts, policy.allowLinks) };
}
