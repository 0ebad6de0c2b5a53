// A copy of a git config file with every way it can hand out or fetch a credential removed:
// http.*.extraheader (actions/checkout <= v5 puts the token there), credential.* helpers,
// include/includeIf (checkout >= v6 includes a credentials file from RUNNER_TEMP), and userinfo
// inside URLs. Lines mentioning a known secret go too, whatever section they sit in.
const SECTION = /^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(.*)$/;

function sectionIsDropped(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'credential' || lower === 'include' || lower === 'includeif';
}

function keyOf(line: string): string {
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(=|$)/.exec(line);
  return m ? m[1].toLowerCase() : '';
}

export function sanitizeGitConfig(text: string, secrets: string[] = []): string {
  const out: string[] = [];
  let dropSection = false;
  let section = '';
  let continuing = false;
  let dropContinuation = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (continuing) {
      // A value continued with a trailing backslash belongs to the key above.
      continuing = /\\$/.test(line);
      if (!dropContinuation) out.push(line);
      continue;
    }
    const sec = SECTION.exec(line);
    if (sec) {
      section = sec[1].toLowerCase();
      dropSection = sectionIsDropped(sec[1]);
      if (!dropSection) out.push(sec[3] ? line.slice(0, line.length - sec[3].length) : line);
      // "[section] key = value" on one line: treat the tail as its own line.
      if (sec[3] && !dropSection && !isDroppedKey(section, sec[3], secrets)) out.push(sec[3]);
      continue;
    }
    continuing = /\\$/.test(line);
    const drop = dropSection || isDroppedKey(section, line, secrets);
    dropContinuation = drop;
    if (!drop) out.push(stripUserinfo(line));
  }
  return out.join('\n');
}

function isDroppedKey(section: string, line: string, secrets: string[]): boolean {
  const key = keyOf(line);
  if (key === 'extraheader') return true;
  if (section === 'http' && (key === 'cookiefile' || key === 'proxyauthmethod')) return true;
  if (section === 'core' && (key === 'askpass' || key === 'sshcommand' || key === 'fsmonitor')) return true;
  return secrets.some((s) => line.includes(s));
}

function stripUserinfo(line: string): string {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s"]+@/gi, '$1');
}
