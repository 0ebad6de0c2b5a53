// A model of what GitHub makes of a comment the guard publishes, to judge the text policy by its
// effect rather than by its own regular expressions: Markdown rendered by a CommonMark renderer with
// raw HTML and autolinks on (markdown-it), every URL in the HTML as a browser takes it (entities
// decoded, tabs and newlines dropped, resolved against the page by the WHATWG parser), and
// the text nodes as GitHub's mention filter reads them (html-pipeline's MentionFilter pattern).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { decodeHTML } = require('entities') as { decodeHTML(s: string): string };

const renderer = new MarkdownIt({ html: true, linkify: true });
const PAGE = 'https://github.com/octo/widgets/issues/7';
const URL_ATTRIBUTES = /\s(?:href|src|srcset|action|formaction|poster|cite|background|longdesc|data)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;
const MENTION = /(?:^|[^A-Za-z0-9_])@([A-Za-z0-9][A-Za-z0-9-]*)(?!\/)/g;
const AUTOLINK = /(?:https?:\/\/|www\.)[^\s<]+/gi;

function foreignHost(raw: string, githubHosts: string[]): string | undefined {
  // What a browser does to an attribute value before parsing it as a URL.
  const value = decodeHTML(raw).replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  for (const candidate of value.split(/,\s*/).map((c) => c.split(/\s+/)[0])) {
    let url: URL;
    try {
      url = new URL(candidate, PAGE);
    } catch {
      continue;
    }
    if (!/^(https?|ftp|wss?):$/.test(url.protocol)) continue;
    const host = url.hostname.toLowerCase();
    if (!githubHosts.some((g) => (g.startsWith('*.') ? host.endsWith(g.slice(1)) : host === g))) return host;
  }
  return undefined;
}

export interface Rendered {
  /** Hosts outside GitHub that a link, image or autolink would reach. */
  foreignHosts: string[];
  /** Users or teams GitHub would notify. */
  mentions: string[];
}

export function renderAsGithub(markdown: string, githubHosts: string[]): Rendered {
  const html: string = renderer.render(markdown);
  const foreignHosts: string[] = [];
  for (const m of html.matchAll(URL_ATTRIBUTES)) {
    const host = foreignHost(m[1].replace(/^["']|["']$/g, ''), githubHosts);
    if (host) foreignHosts.push(host);
  }
  // Text outside code, links and HTML tags: what GitHub's autolinker and mention filter read.
  const text = decodeHTML(html.replace(/<(code|pre|a)\b[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' '));
  for (const m of text.matchAll(AUTOLINK)) {
    const host = foreignHost(m[0].startsWith('www.') ? `https://${m[0]}` : m[0], githubHosts);
    if (host) foreignHosts.push(host);
  }
  const mentions = [...text.matchAll(MENTION)].map((m) => m[1]);
  return { foreignHosts, mentions };
}
