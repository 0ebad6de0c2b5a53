// What a `run:` script does with data, as far as taint is concerned: which outputs and environment
// variables it writes (and from what text), which files it writes, which variables it reads, and
// whether it fetches outsider text at run time. Shell is not parsed fully; these are line-level
// readings with offsets, which is what the taint path needs.

export interface ScriptWrite {
  name: string;
  /** The text the value is built from (the statement, or the whole group for `{ ...; } >> $GITHUB_OUTPUT`). */
  text: string;
  /** Offset of `text` in the script. */
  offset: number;
}

export interface FileWrite {
  path: string;
  text: string;
  offset: number;
}

export interface ScriptFacts {
  outputs: ScriptWrite[];
  env: ScriptWrite[];
  paths: ScriptWrite[];
  files: FileWrite[];
  /** Variables assigned in the script: `NAME=...` (value text and offset). */
  assignments: ScriptWrite[];
}

const cache = new WeakMap<object, ScriptFacts>();

/** Facts are cached per scalar node (the same script is read by several analyses). */
export function scriptFacts(key: object, script: string): ScriptFacts {
  const known = cache.get(key);
  if (known) return known;
  const facts = readScript(script);
  cache.set(key, facts);
  return facts;
}

const SPECIAL_FILE = /(?:>>?|tee\s+(?:-a\s+)?)\s*"?\$\{?(GITHUB_OUTPUT|GITHUB_ENV|GITHUB_PATH|GITHUB_STEP_SUMMARY)\}?"?/;
const NAME_IN_WRITE = /(?:^|[\s"'({;])([A-Za-z_][A-Za-z0-9_-]*)(=|<<)/g;
const FILE_REDIRECT = /(?:>>?|\btee\s+(?:-a\s+)?)\s*("[^"]+"|'[^']+'|[^\s;|&)]+)/g;
const ASSIGNMENT = /^\s*(?:export\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
/** `cp SRC DEST` / `mv SRC DEST`: DEST holds what SRC held (`cp "$GITHUB_EVENT_PATH" ctx/event.json`). */
const COPY = /(?:^|[;&|(]\s*|\s)(?:cp|mv)\s+(?:-[A-Za-z-]+\s+)*("[^"]+"|'[^']+'|[^\s;|&)]+)\s+("[^"]+"|'[^']+'|[^\s;|&)]+)\s*(?:$|[;&|)])/g;

function readScript(script: string): ScriptFacts {
  const facts: ScriptFacts = { outputs: [], env: [], paths: [], files: [], assignments: [] };
  const lines = logicalLines(script);
  for (let i = 0; i < lines.length; i++) {
    const { text, offset } = lines[i];
    const special = SPECIAL_FILE.exec(text);
    if (special) {
      const target = special[1];
      // A group or loop closed on this line writes what the whole block printed.
      const block = /^\s*(\}|done|\)|fi)(?=\s|$|>|;|\|)/.test(text) ? blockStart(lines, i) : i;
      const blockText = lines
        .slice(block, i + 1)
        .map((l) => l.text)
        .join('\n');
      const blockOffset = lines[block].offset;
      const bucket = target === 'GITHUB_OUTPUT' ? facts.outputs : target === 'GITHUB_ENV' ? facts.env : target === 'GITHUB_PATH' ? facts.paths : null;
      if (bucket) {
        const names = new Set<string>();
        for (const m of blockText.matchAll(NAME_IN_WRITE)) names.add(m[1]);
        if (target === 'GITHUB_PATH') names.add('PATH');
        for (const name of names) bucket.push({ name, text: blockText, offset: blockOffset });
      }
      continue;
    }
    // `cat > file <<EOF` writes the heredoc's body.
    const heredoc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(text);
    let written = text;
    if (heredoc) {
      let end = i + 1;
      while (end < lines.length && lines[end].text.trim() !== heredoc[2]) end++;
      written = lines
        .slice(i, end)
        .map((l) => l.text)
        .join('\n');
    }
    for (const m of text.matchAll(FILE_REDIRECT)) {
      const target = m[1].replace(/^["']|["']$/g, '');
      if (target.startsWith('&') || target.startsWith('<') || target === '/dev/null' || /^\d$/.test(target)) continue;
      facts.files.push({ path: target, text: written, offset });
    }
    for (const m of text.matchAll(COPY)) {
      const target = m[2].replace(/^["']|["']$/g, '');
      if (!target.startsWith('-')) facts.files.push({ path: target, text, offset });
    }
    const assignment = ASSIGNMENT.exec(text);
    if (assignment) facts.assignments.push({ name: assignment[1], text: assignment[2], offset: offset + text.indexOf(assignment[2]) });
  }
  return facts;
}

interface Line {
  text: string;
  offset: number;
}

/** Lines with backslash continuations joined, so a command split over lines reads as one. */
function logicalLines(script: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  let buffer = '';
  let bufferOffset = 0;
  while (start <= script.length) {
    let end = script.indexOf('\n', start);
    if (end === -1) end = script.length;
    const raw = script.slice(start, end);
    if (!buffer) bufferOffset = start;
    if (raw.endsWith('\\')) buffer += raw.slice(0, -1) + ' ';
    else {
      out.push({ text: buffer + raw, offset: bufferOffset });
      buffer = '';
    }
    start = end + 1;
  }
  if (buffer) out.push({ text: buffer, offset: bufferOffset });
  return out;
}

/** Walks back to the line that opens the block closed at `end` (`{`, `(`, `do`, `then`). */
function blockStart(lines: Line[], end: number): number {
  let depth = 0;
  for (let i = end; i >= 0; i--) {
    const t = lines[i].text;
    depth += (t.match(/(^|\s|;)(\}|\)|done|fi)(?=\s|;|$|>)/g) ?? []).length;
    depth -= (t.match(/(^|\s)(\{|\(|do|then)(?=\s|$)/g) ?? []).length;
    if (depth <= 0 && i < end) return i;
  }
  return Math.max(0, end - 20);
}

/** Shell variables a text reads: `$NAME`, `${NAME...}` and `printenv NAME`. */
export function shellVariables(text: string): { name: string; index: number }[] {
  const out: { name: string; index: number }[] = [];
  const re = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))|\bprintenv\s+([A-Za-z_][A-Za-z0-9_]*)/g;
  for (const m of text.matchAll(re)) out.push({ name: m[1] ?? m[2] ?? m[3], index: m.index ?? 0 });
  return out;
}

/**
 * Commands that pull outsider-authored text at run time: the issue/PR thread through `gh` or the
 * API, the event payload file, or GitHub MCP read tools.
 */
const RUNTIME_FETCH: { pattern: RegExp; what: string }[] = [
  { pattern: /\bgh\s+(issue|pr)\s+(view|diff|status)\b/, what: 'issue or pull-request text fetched with the gh CLI' },
  { pattern: /\bgh\s+(issue|pr)\s+list\b/, what: 'issue or pull-request titles listed with the gh CLI' },
  { pattern: /\bgh\s+search\s+(issues|prs)\b/, what: 'issues found with gh search' },
  { pattern: /\bgh\s+api\b[^\n]*\b(issues|pulls|comments|discussions|reviews)\b/, what: 'issue, pull-request or comment text fetched through the GitHub API' },
  { pattern: /\bGITHUB_EVENT_PATH\b/, what: 'the event payload ($GITHUB_EVENT_PATH)' },
  { pattern: /\bmcp__github__(get_issue|list_issues|search_issues|get_issue_comments|get_pull_request\w*|list_pull_requests|get_discussion\w*)\b/i, what: 'issue or pull-request text read through the GitHub MCP server' },
  { pattern: /\b(issue_read|pull_request_read)\b/, what: 'issue or pull-request text read through GitHub tools' },
];

export interface RuntimeFetch {
  what: string;
  /** Every fetch is filtered to maintainer-applied labels (`--label`): a maintainer chose what it reads. */
  labelGated: boolean;
}

/** Fields of `gh ... --json` that carry text outsiders write. */
const TEXT_FIELDS = /\b(title|body|comments|reviews|headRefName|commits|author|labels|files)\b/;

const TOOL_SPEC = /\b(?:Bash|run_shell_command|shell)\([^)\n]*\)/g;

/** What outsider text, if any, a piece of script or prompt makes the agent fetch. */
export function runtimeFetch(text: string): RuntimeFetch | null {
  let found: RuntimeFetch | null = null;
  for (const raw of text.split('\n')) {
    // `Bash(gh issue view:*)` in a tool allowlist is a permission, not a command being run.
    const line = raw.replace(TOOL_SPEC, '');
    for (const { pattern, what } of RUNTIME_FETCH) {
      if (!pattern.test(line)) continue;
      if (/\bgh\s+(issue|pr|search)\b/.test(line)) {
        // `--json number` fetches numbers, not text.
        const json = /--json[=\s]+([\w,]+)/.exec(line);
        if (json && !TEXT_FIELDS.test(json[1])) continue;
        const labelGated = /\s(--label|-l)[=\s]/.test(line);
        if (!labelGated) return { what, labelGated: false };
        found ??= { what: `${what} (filtered to a maintainer-applied label)`, labelGated: true };
        continue;
      }
      return { what, labelGated: false };
    }
  }
  return found;
}
