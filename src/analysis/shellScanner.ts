// Reading `run:` scripts as a shell would, far enough to know which words are commands, to find agent
// CLI invocations: quotes, escapes, line continuations, comments, `;` `&&` `||` `|` `&`, subshells and
// groups, `$(...)`, backticks, process substitution, `if`/`while`/`for`/`case`, `[[ ]]`, `(( ))`,
// function definitions, redirections, heredocs, leading `VAR=value` assignments and `export`. Wrappers
// are looked through (`sudo`, `env`, `time`, `nohup`, `timeout N`, `xargs`, `npx [-y] PKG`, `bunx`,
// `pnpm dlx`, `yarn dlx`, `uvx`, `pipx run`, `npm exec`, `uv run`, `poetry run`, `bash -c '...'`, `eval`,
// `python -m MODULE`, ...).
// A matched command is an agent *run* unless it only prints or configures: a flag in `infoFlags`
// (`--version`, `--help`), a first argument in `nonRunSubcommands` (`install`, `update`, `mcp`, `login`),
// or, where the CLI lists `subcommands`/`requiredFlags`, neither of them (`codex login`, `agent` without
// `-p`). Heredoc bodies are data: only `$(...)` and backticks inside unquoted ones run, and the body of
// `bash <<EOF` is a script. Everything is a single forward pass (nested strings of `bash -c` and `eval`
// are re-read, to a fixed depth), so the cost is linear in the script size.

import { agentIndex, classifyInvocation, flagTakesValue, type CliInvocation } from './agents';
import type { AgentCli } from './ruleTypes';

interface Word {
  value: string;
  start: number;
  end: number;
  /** Any part was quoted or escaped (so it cannot be a reserved word or an assignment name). */
  quoted: boolean;
  /** Offset in the scanned text where `value` starts verbatim (the word is one plain or single quoted run), or -1. */
  verbatimAt: number;
}

interface Heredoc {
  delim: string;
  stripTabs: boolean;
  quoted: boolean;
  /** Set when the command that owns the heredoc is a shell reading its script from stdin. */
  owner: { script: boolean };
}

const RESERVED_PREFIX = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time', 'coproc']);
const RESERVED_END = new Set(['fi', 'done', 'esac', '}']);
const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'ash']);
const PYTHONS = /^(python|python3|python3\.\d+|python2|py|pypy3?)$/;
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const MAX_DEPTH = 6;

/** The agent CLI invocations in a `run:` script, in order of appearance. */
export function findCliInvocations(script: string): CliInvocation[] {
  const out: CliInvocation[] = [];
  const scanner = new Scanner(script, 0, script.length, { base: 0 }, out, {}, 0);
  scanner.run();
  return dedupe(out).sort((a, b) => a.start - b.start);
}

/**
 * A string re-read as a script (`eval "$(claude -p x)"`, `bash -c "... $(claude ...)"`) can report a
 * command the outer reading already found inside a substitution. Such a repeat has the same CLI and
 * arguments and a range that contains the original's; only the tighter one is kept. Linear-logarithmic.
 */
function dedupe(invs: CliInvocation[]): CliInvocation[] {
  const reread = invs.filter((i) => rereadSet.has(i));
  if (!reread.length) return invs;
  const keyOf = (i: CliInvocation) => `${i.cli.id}\0${i.args.join('\0')}`;
  const direct = new Map<string, number[][]>();
  for (const i of invs) {
    if (rereadSet.has(i)) continue;
    const list = direct.get(keyOf(i)) ?? [];
    list.push([i.start, i.end]);
    direct.set(keyOf(i), list);
  }
  for (const list of direct.values()) list.sort((a, b) => a[0] - b[0]);
  const drop = new Set<CliInvocation>();
  const seen = new Set<string>();
  for (const r of reread) {
    const exact = `${keyOf(r)}\0${r.start}\0${r.end}`;
    if (seen.has(exact)) {
      drop.add(r);
      continue;
    }
    seen.add(exact);
    const list = direct.get(keyOf(r));
    if (!list) continue;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid][0] < r.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < list.length && list[lo][1] <= r.end) drop.add(r);
  }
  return drop.size ? invs.filter((i) => !drop.has(i)) : invs;
}

/** Invocations found by re-reading a string argument (candidates for dedupe). */
const rereadSet = new WeakSet<CliInvocation>();

/** How offsets in a scanned text map to the original script. */
interface OffsetMap {
  base: number;
  /** When set, everything found maps to this fixed range (text that was unescaped before re-reading). */
  fixed?: [number, number];
}

class Scanner {
  private pos: number;
  private pending: Heredoc[] = [];
  private nesting = 0;

  constructor(
    private readonly text: string,
    start: number,
    private limit: number,
    private readonly map: OffsetMap,
    private readonly out: CliInvocation[],
    /** Variables exported so far (shared with nested scanners). */
    private readonly exported: Record<string, string>,
    private readonly depth: number,
    /** This scanner re-reads a string the outer scanner already read as a word. */
    private readonly reread = false,
  ) {
    this.pos = start;
  }

  run(): void {
    this.sequence(null);
  }

  // ---- lists of commands ------------------------------------------------------------------------

  /** Reads commands until `stop` (`)` or `` ` ``) at this level, or the end. Does not consume `stop`. */
  private sequence(stop: ')' | '`' | null): void {
    // Per level: are we expecting a `case` pattern? (true after `case x in` and after `;;`)
    const caseStack: boolean[] = [];
    const t = this.text;
    while (this.pos < this.limit) {
      this.skipBlanks();
      if (this.pos >= this.limit) return;
      const c = t[this.pos];
      if (c === '\n') {
        this.pos++;
        this.readHeredocBodies();
        continue;
      }
      if (c === '#') {
        this.skipComment();
        continue;
      }
      if (caseStack.length && caseStack[caseStack.length - 1]) {
        if (this.atWord('esac')) {
          this.pos += 4;
          caseStack.pop();
          continue;
        }
        this.skipCasePattern();
        caseStack[caseStack.length - 1] = false;
        continue;
      }
      if (stop && c === stop) return;
      if (c === ';' || c === '&' || c === '|') {
        const op = this.readOperator();
        if ((op === ';;' || op === ';&' || op === ';;&') && caseStack.length) caseStack[caseStack.length - 1] = true;
        continue;
      }
      if (c === '(') {
        if (t[this.pos + 1] === '(') {
          this.skipBalanced('(', ')');
          continue;
        }
        this.pos++;
        this.nested(() => this.sequence(')'));
        if (t[this.pos] === ')') this.pos++;
        continue;
      }
      if (c === ')') {
        // Stray `)` (unbalanced, or the end of an outer construct we are not tracking).
        this.pos++;
        continue;
      }
      const before = this.pos;
      const kind = this.command(stop);
      if (this.pos === before && kind === undefined) this.pos++; // never stall on unexpected input
      if (kind === 'case') caseStack.push(true);
      else if (kind === 'esac' && caseStack.length) caseStack.pop();
    }
  }

  private atWord(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const next = this.text[this.pos + word.length];
    return next === undefined || this.pos + word.length >= this.limit || /[\s;&|()<>]/.test(next);
  }

  /** Skips `pattern | pattern )` of a case clause. */
  private skipCasePattern(): void {
    const t = this.text;
    if (t[this.pos] === '(') this.pos++;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === ')') {
        this.pos++;
        return;
      }
      if (c === '\\') this.pos += 2;
      else if (c === '"' || c === "'") this.skipQuoted();
      else if (c === '$') this.readDollar();
      else this.pos++;
    }
  }

  private readOperator(): string {
    const t = this.text;
    for (const op of [';;&', ';;', ';&', '&&', '||', '|&', ';', '&', '|']) {
      if (t.startsWith(op, this.pos)) {
        this.pos += op.length;
        return op;
      }
    }
    this.pos++;
    return t[this.pos - 1];
  }

  /** Inside how many backtick substitutions we are (a backtick then ends one instead of opening one). */
  private backticks = 0;

  private backtick(): void {
    this.pos++;
    this.backticks++;
    try {
      this.nested(() => this.sequence('`'));
    } finally {
      this.backticks--;
    }
    if (this.text[this.pos] === '`') this.pos++;
  }

  private nested(fn: () => void): void {
    if (this.nesting > 200) return;
    this.nesting++;
    try {
      fn();
    } finally {
      this.nesting--;
    }
  }

  private skipBlanks(): void {
    const t = this.text;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && t[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '\\' && t[this.pos + 1] === '\r' && t[this.pos + 2] === '\n') this.pos += 3;
      else break;
    }
  }

  private skipComment(): void {
    const nl = this.text.indexOf('\n', this.pos);
    this.pos = nl < 0 || nl > this.limit ? this.limit : nl;
  }

  /** Skips `((...))`, `$((...))`-style balanced text (quotes respected). Starts at the first `open`. */
  private skipBalanced(open: string, close: string): void {
    const t = this.text;
    let depth = 0;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === '\\') {
        this.pos += 2;
        continue;
      }
      if (c === "'" || c === '"') {
        this.skipQuoted();
        continue;
      }
      if (c === '$' && t[this.pos + 1] === '(' && t[this.pos + 2] !== '(') {
        this.pos += 2;
        this.nested(() => this.sequence(')'));
        if (t[this.pos] === ')') this.pos++;
        continue;
      }
      this.pos++;
      if (c === open) depth++;
      else if (c === close) {
        depth--;
        if (depth <= 0) return;
      }
    }
  }

  // ---- one simple command --------------------------------------------------------------------------

  /** Reads one simple command (or a reserved word) and analyses it. Returns 'case'/'esac' for case tracking. */
  private command(stop: ')' | '`' | null): string | undefined {
    const t = this.text;
    const words: Word[] = [];
    const assigns: Record<string, string> = {};
    const heredocs: Heredoc[] = [];
    let kind: string | undefined;
    let forLoop = false;
    while (this.pos < this.limit) {
      this.skipBlanks();
      if (this.pos >= this.limit) break;
      const c = t[this.pos];
      if (c === '\n' || c === ';' || c === '|' || c === ')') break;
      if (c === '&' && t[this.pos + 1] !== '>') break;
      if (stop && c === stop) break;
      if (c === '#' && (this.pos === 0 || /\s/.test(t[this.pos - 1]))) {
        this.skipComment();
        break;
      }
      if (c === '(') {
        if (words.length === 1 && !forLoop && /^\s*\)/.test(t.slice(this.pos + 1, this.pos + 40))) {
          // `name() { ...; }`: a function definition; the body follows as commands.
          this.pos = t.indexOf(')', this.pos) + 1;
          words.length = 0;
          continue;
        }
        if (words.length === 0 && t[this.pos + 1] === '(') {
          this.skipBalanced('(', ')');
          continue;
        }
        if (words.length === 0) break; // a subshell: the sequence reads it
        this.pos++;
        this.nested(() => this.sequence(')'));
        if (t[this.pos] === ')') this.pos++;
        continue;
      }
      if (this.redirection(heredocs)) continue;
      const w = this.readWord();
      if (w.end === w.start) {
        this.pos++; // defensive: never stall
        continue;
      }
      if (words.length === 0 && !forLoop) {
        if (!w.quoted && ASSIGNMENT.test(w.value) && ASSIGNMENT.test(t.slice(w.start, w.end))) {
          const eq = w.value.indexOf('=');
          assigns[w.value.slice(0, eq).replace(/\[.*$/, '').replace(/\+$/, '')] = w.value.slice(eq + 1);
          continue;
        }
        if (!w.quoted && RESERVED_PREFIX.has(w.value)) {
          if (w.value === 'time') this.skipTimeOptions();
          continue;
        }
        if (!w.quoted && RESERVED_END.has(w.value)) {
          if (w.value === 'esac') kind = 'esac';
          continue;
        }
        if (!w.quoted && w.value === 'function') {
          this.skipBlanks();
          this.readWord();
          continue;
        }
        if (!w.quoted && w.value === '[[') {
          this.skipConditional();
          continue;
        }
        if (!w.quoted && (w.value === 'for' || w.value === 'select')) {
          forLoop = true;
          this.skipBlanks();
          if (t.startsWith('((', this.pos)) this.skipBalanced('(', ')');
          continue;
        }
        if (!w.quoted && w.value === 'case') {
          this.skipBlanks();
          this.readWord(); // the subject
          this.skipBlanks();
          if (this.atWord('in')) this.pos += 2;
          return 'case';
        }
      }
      if (!forLoop) words.push(w);
    }
    const owner = { script: false };
    for (const h of heredocs) {
      h.owner = owner;
      this.pending.push(h);
    }
    if (words.length) this.analyse(words, assigns, owner, heredocs.length > 0);
    return kind;
  }

  private skipTimeOptions(): void {
    this.skipBlanks();
    while (this.text.startsWith('-p', this.pos) && /[\s]/.test(this.text[this.pos + 2] ?? ' ')) {
      this.pos += 2;
      this.skipBlanks();
    }
  }

  /** Skips the words of `[[ ... ]]` (operators inside are not command separators). */
  private skipConditional(): void {
    const t = this.text;
    while (this.pos < this.limit) {
      this.skipBlanks();
      if (this.pos >= this.limit) return;
      if (this.atWord(']]')) {
        this.pos += 2;
        return;
      }
      const c = t[this.pos];
      if (c === '\n' || '&|<>()!;'.includes(c)) {
        this.pos++;
        continue;
      }
      const w = this.readWord();
      if (w.end === w.start) this.pos++;
    }
  }

  /** Parses a redirection at the current position, if there is one. Heredocs are queued. */
  private redirection(heredocs: Heredoc[]): boolean {
    const t = this.text;
    let p = this.pos;
    while (p < this.limit && t[p] >= '0' && t[p] <= '9') p++;
    if (t[p] === '{' && /^\{[A-Za-z_][A-Za-z0-9_]*\}[<>]/.test(t.slice(p, p + 40))) p = t.indexOf('}', p) + 1;
    const c = t[p];
    if (c !== '<' && c !== '>' && !(c === '&' && t[p + 1] === '>')) return false;
    if ((c === '<' || c === '>') && t[p + 1] === '(' && p === this.pos) return false; // process substitution: a word
    const ops = ['<<<', '<<-', '<<', '<>', '<&', '>>', '>&', '>|', '&>>', '&>', '<', '>'];
    const op = ops.find((o) => t.startsWith(o, p))!;
    this.pos = p + op.length;
    this.skipBlanks();
    const target = this.readWord();
    if (op === '<<' || op === '<<-') {
      heredocs.push({ delim: target.value, stripTabs: op === '<<-', quoted: target.quoted, owner: { script: false } });
    }
    return true;
  }

  /** After a newline: consume the bodies of heredocs opened on the line just ended. */
  private readHeredocBodies(): void {
    const t = this.text;
    while (this.pending.length) {
      const h = this.pending.shift()!;
      const bodyStart = this.pos;
      let bodyEnd = this.limit;
      let next = this.limit;
      let p = this.pos;
      while (p < this.limit) {
        let nl = t.indexOf('\n', p);
        if (nl < 0 || nl > this.limit) nl = this.limit;
        let line = t.slice(p, nl);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (h.stripTabs) line = line.replace(/^\t+/, '');
        if (line === h.delim) {
          bodyEnd = p;
          next = Math.min(nl + 1, this.limit);
          break;
        }
        p = nl + 1;
      }
      if (h.owner.script) {
        this.sub(bodyStart, bodyEnd, this.map);
      } else if (!h.quoted) {
        this.scanExpansions(bodyStart, bodyEnd);
      }
      this.pos = next;
    }
  }

  /** Runs a nested scanner over [start, end) of the same text. */
  private sub(start: number, end: number, map: OffsetMap): void {
    if (this.depth >= MAX_DEPTH) return;
    new Scanner(this.text, start, end, map, this.out, this.exported, this.depth + 1, this.reread).run();
  }

  /** Runs a nested scanner over another string (an unescaped `bash -c` argument). */
  private subText(text: string, map: OffsetMap): void {
    if (this.depth >= MAX_DEPTH) return;
    new Scanner(text, 0, text.length, map, this.out, this.exported, this.depth + 1, true).run();
  }

  /** Finds `$(...)` and backticks in heredoc text (the only parts of it that run). */
  private scanExpansions(start: number, end: number): void {
    const t = this.text;
    const saved = this.pos;
    this.pos = start;
    const limit = this.limit;
    this.limit = end;
    try {
      while (this.pos < end) {
        const c = t[this.pos];
        if (c === '\\') this.pos += 2;
        else if (c === '$' && t[this.pos + 1] === '(' && t[this.pos + 2] !== '(') {
          this.pos += 2;
          this.nested(() => this.sequence(')'));
          this.pos++;
        } else if (c === '`') {
          this.backtick();
        } else this.pos++;
      }
    } finally {
      this.limit = limit;
      this.pos = saved;
    }
  }

  // ---- words -----------------------------------------------------------------------------------------

  /** Reads one word: quotes removed, expansions kept as written, command substitutions scanned. */
  private readWord(): Word {
    const t = this.text;
    const start = this.pos;
    let value = '';
    let quoted = false;
    let plain = true; // no escapes or expansions that change the text
    let singleRun = -1; // offset of content when the word is exactly one '...' or "..." run
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '&' || c === '|' || c === ')' || c === '`') {
        if (c === '`' && this.backticks === 0) {
          // a backtick inside a word: command substitution
          const s = this.pos;
          this.backtick();
          value += t.slice(s, Math.min(this.pos, this.limit));
          plain = false;
          continue;
        }
        break;
      }
      if (c === '<' || c === '>') {
        if (t[this.pos + 1] === '(' && this.pos === start) {
          // process substitution
          this.pos += 2;
          this.nested(() => this.sequence(')'));
          this.pos++;
          value += t.slice(start, Math.min(this.pos, this.limit));
          plain = false;
          continue;
        }
        break;
      }
      if (c === '(') {
        // `name=(a b c)`: an array assignment
        if (ASSIGNMENT.test(value) && value.endsWith('=')) {
          const s = this.pos;
          this.skipBalanced('(', ')');
          value += t.slice(s, this.pos);
          plain = false;
          continue;
        }
        break;
      }
      if (c === '\\') {
        const n = t[this.pos + 1];
        if (n === '\n') {
          this.pos += 2;
          plain = false;
          continue;
        }
        if (n !== undefined && this.pos + 1 < this.limit) value += n;
        this.pos += 2;
        quoted = true;
        plain = false;
        continue;
      }
      if (c === "'") {
        const close = t.indexOf("'", this.pos + 1);
        const end = close < 0 || close >= this.limit ? this.limit : close;
        if (this.pos === start && (end + 1 >= this.limit || /[\s;&|)<>]/.test(t[end + 1] ?? ' '))) singleRun = this.pos + 1;
        value += t.slice(this.pos + 1, end);
        this.pos = end + 1;
        quoted = true;
        continue;
      }
      if (c === '"') {
        const contentStart = this.pos + 1;
        this.pos++;
        this.dqPlain = true;
        value += this.readDoubleQuoted();
        quoted = true;
        if (this.dqPlain && start === contentStart - 1 && (this.pos >= this.limit || /[\s;&|)<>]/.test(t[this.pos] ?? ' '))) singleRun = contentStart;
        if (!this.dqPlain) plain = false;
        continue;
      }
      if (c === '$') {
        const n = t[this.pos + 1];
        if (n === "'") {
          this.pos += 2;
          value += this.readAnsiC();
          quoted = true;
          plain = false;
          continue;
        }
        if (n === '"') {
          this.pos++;
          continue; // $"..." is read as "..."
        }
        const exp = this.readDollar();
        value += exp;
        plain = false;
        continue;
      }
      value += c;
      this.pos++;
    }
    const end = this.pos;
    let verbatimAt = -1;
    if (singleRun >= 0 && t.slice(singleRun, singleRun + value.length) === value) verbatimAt = singleRun;
    else if (plain && !quoted && t.slice(start, end) === value) verbatimAt = start;
    return { value, start, end, quoted, verbatimAt };
  }

  /** At a quote: skips the quoted text (command substitutions inside double quotes are still scanned). */
  private skipQuoted(): void {
    if (this.text[this.pos] === "'") {
      const close = this.text.indexOf("'", this.pos + 1);
      this.pos = close < 0 || close >= this.limit ? this.limit : close + 1;
      return;
    }
    this.pos++;
    this.readDoubleQuoted();
  }

  /** Inside "...": returns the content (escapes resolved), scanning command substitutions. */
  private readDoubleQuoted(): string {
    const t = this.text;
    let value = '';
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === '"') {
        this.pos++;
        return value;
      }
      if (c === '\\') {
        const n = t[this.pos + 1];
        if (n === '\n') {
          this.pos += 2;
          continue;
        }
        if (n === '$' || n === '`' || n === '"' || n === '\\') {
          value += n;
          this.pos += 2;
          this.markNotPlain();
          continue;
        }
        value += c;
        this.pos++;
        continue;
      }
      if (c === '`') {
        const s = this.pos;
        this.backtick();
        value += t.slice(s, Math.min(this.pos, this.limit));
        this.markNotPlain();
        continue;
      }
      if (c === '$') {
        value += this.readDollar();
        this.markNotPlain();
        continue;
      }
      value += c;
      this.pos++;
    }
    return value;
  }

  /** Cleared by readDoubleQuoted when the quoted text had escapes or expansions. */
  private dqPlain = true;
  private markNotPlain(): void {
    this.dqPlain = false;
  }

  /** `$'...'` with the common escapes. */
  private readAnsiC(): string {
    const t = this.text;
    let value = '';
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v' };
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === "'") {
        this.pos++;
        return value;
      }
      if (c === '\\' && this.pos + 1 < this.limit) {
        const n = t[this.pos + 1];
        value += map[n] ?? `\\${n}`;
        this.pos += 2;
        continue;
      }
      value += c;
      this.pos++;
    }
    return value;
  }

  /** At `$`: reads `$(...)` (scanned), `$((...))`, `${{ expr }}`, `${...}`, `$NAME` or a lone `$`; returns the raw text. */
  private readDollar(): string {
    if (this.nesting > 200) {
      this.pos++;
      return '$';
    }
    this.nesting++;
    try {
      return this.readDollarInner();
    } finally {
      this.nesting--;
    }
  }

  private readDollarInner(): string {
    const t = this.text;
    const s = this.pos;
    const n = t[this.pos + 1];
    if (n === '(') {
      if (t[this.pos + 2] === '(') {
        this.pos++;
        this.skipBalanced('(', ')');
      } else {
        this.pos += 2;
        this.nested(() => this.sequence(')'));
        if (t[this.pos] === ')') this.pos++;
      }
      return t.slice(s, Math.min(this.pos, this.limit));
    }
    if (n === '{') {
      if (t[this.pos + 2] === '{') {
        // A GitHub expression, substituted before the shell runs.
        const close = t.indexOf('}}', this.pos + 3);
        this.pos = close < 0 || close + 2 > this.limit ? this.limit : close + 2;
        return t.slice(s, this.pos);
      }
      this.pos += 2;
      let depth = 1;
      while (this.pos < this.limit && depth > 0) {
        const c = t[this.pos];
        if (c === '\\') this.pos += 2;
        else if (c === "'" || c === '"') this.skipQuoted();
        else if (c === '$' && (t[this.pos + 1] === '(' || t[this.pos + 1] === '{')) this.readDollar();
        else if (c === '`') this.backtick();
        else {
          if (c === '{') depth++;
          else if (c === '}') depth--;
          this.pos++;
        }
      }
      return t.slice(s, Math.min(this.pos, this.limit));
    }
    this.pos++;
    if (n !== undefined && /[A-Za-z_]/.test(n)) {
      while (this.pos < this.limit && /[A-Za-z0-9_]/.test(t[this.pos])) this.pos++;
    } else if (n !== undefined && /[0-9@*#?$!-]/.test(n)) {
      this.pos++;
    }
    return t.slice(s, this.pos);
  }

  // ---- analysis of a simple command -----------------------------------------------------------------

  private range(startWord: Word, endWord: Word): [number, number] {
    if (this.map.fixed) return this.map.fixed;
    return [this.map.base + startWord.start, this.map.base + endWord.end];
  }

  /** Maps a word of this scanner to how a nested scan of its value should report offsets. */
  private mapFor(word: Word): OffsetMap {
    if (this.map.fixed) return { base: 0, fixed: this.map.fixed };
    if (word.verbatimAt >= 0) return { base: this.map.base + word.verbatimAt };
    return { base: 0, fixed: [this.map.base + word.start, this.map.base + word.end] };
  }

  private analyse(words: Word[], assigns: Record<string, string>, heredocOwner: { script: boolean }, hasHeredoc: boolean): void {
    const env: Record<string, string> = { ...assigns };
    let i = 0;
    // Explicit package (npx -p PKG cmd, uvx --from PKG cmd) whose command word follows.
    let viaPackage: string | undefined;
    for (let guard = 0; guard < 12 && i < words.length; guard++) {
      const name = basename(words[i].value);
      const next = (k = 1) => words[i + k]?.value;
      // Skips options up to the first positional (or past `--`); `valueOpts` take the next word.
      const skipOptions = (valueOpts: string[]) => {
        while (i < words.length) {
          const v = words[i].value;
          if (v === '--') {
            i++;
            return;
          }
          if (!v.startsWith('-') || v === '-') return;
          i += valueOpts.includes(v) ? 2 : 1;
        }
      };
      if (name === 'sudo' || name === 'doas') {
        i++;
        skipOptions(['-u', '-g', '-p', '-C', '-D', '-r', '-t', '-T', '-U', '-h', '--user', '--group', '--chdir', '--prompt', '--close-from', '--role', '--type', '--other-user', '--host']);
        while (i < words.length && ASSIGNMENT.test(words[i].value)) addAssignment(env, words[i++].value);
        continue;
      }
      if (name === 'env') {
        i++;
        while (i < words.length) {
          const v = words[i].value;
          if (v === '--') {
            i++;
            break;
          }
          if (v === '-S' || v === '--split-string' || v.startsWith('--split-string=')) {
            const arg = v.includes('=') ? words[i] : words[i + 1];
            if (arg) this.nestedScript(arg, v.includes('=') ? v.slice(v.indexOf('=') + 1) : arg.value, v.includes('='));
            return;
          }
          if (v.startsWith('-')) {
            i += v === '-u' || v === '-C' || v === '--unset' || v === '--chdir' ? 2 : 1;
            continue;
          }
          if (ASSIGNMENT.test(v)) {
            addAssignment(env, v);
            i++;
            continue;
          }
          break;
        }
        continue;
      }
      if (name === 'time') {
        i++;
        skipOptions(['-o', '-f', '--output', '--format']);
        continue;
      }
      if (['nohup', 'setsid', 'chronic', 'unbuffer', 'caffeinate', 'catchsegv', 'builtin'].includes(name)) {
        i++;
        continue;
      }
      if (name === 'exec') {
        i++;
        skipOptions(['-a']);
        continue;
      }
      if (name === 'command') {
        i++;
        if (next(0) === '-v' || next(0) === '-V') return; // `command -v claude` only looks it up
        skipOptions([]);
        continue;
      }
      if (name === 'nice' || name === 'ionice') {
        i++;
        skipOptions(['-n', '-c', '-p', '-t', '--adjustment', '--class', '--classdata']);
        continue;
      }
      if (name === 'stdbuf') {
        i++;
        skipOptions(['-i', '-o', '-e', '--input', '--output', '--error']);
        continue;
      }
      if (name === 'timeout') {
        i++;
        skipOptions(['-s', '-k', '--signal', '--kill-after']);
        if (i < words.length) i++; // the duration
        continue;
      }
      if (name === 'xargs') {
        i++;
        while (i < words.length) {
          const v = words[i].value;
          if (v === '--') {
            i++;
            break;
          }
          if (!v.startsWith('-') || v === '-') break;
          i += ['-I', '-n', '-P', '-L', '-d', '-E', '-s', '-a', '--max-args', '--max-procs', '--max-lines', '--delimiter', '--arg-file', '--eof', '--max-chars', '--replace'].includes(v) ? 2 : 1;
        }
        continue;
      }
      if (name === 'bwrap' || name === 'awf' || name === 'unshare' || name === 'firejail' || name === 'systemd-run') {
        const dd = words.findIndex((w, k) => k > i && w.value === '--');
        if (dd > 0) {
          i = dd + 1;
          continue;
        }
        if (name === 'firejail' || name === 'unshare') {
          i++;
          skipOptions([]);
          continue;
        }
        return;
      }
      // Package runners.
      if (name === 'npx' || name === 'pnpx' || name === 'bunx' || (name === 'bun' && next() === 'x') || (name === 'pnpm' && next() === 'dlx') || (name === 'yarn' && next() === 'dlx') || (name === 'npm' && (next() === 'exec' || next() === 'x'))) {
        i += name === 'npx' || name === 'pnpx' || name === 'bunx' ? 1 : 2;
        while (i < words.length) {
          const v = words[i].value;
          if (v === '--') {
            i++;
            break;
          }
          if (!v.startsWith('-')) break;
          if (v === '-p' || v === '--package') {
            viaPackage = words[i + 1]?.value;
            i += 2;
          } else if (v.startsWith('--package=')) {
            viaPackage = v.slice('--package='.length);
            i++;
          } else if (v === '-c' || v === '--call' || v === '--shell-mode') {
            const arg = words[i + 1];
            if (arg) this.nestedScript(arg, arg.value, false);
            return;
          } else i++;
        }
        if (i < words.length && !viaPackage) {
          // The first positional is a package spec (or a local binary name).
          const pkg = packageName(words[i].value);
          const cli = pkg ? agentIndex().byPackage.get(pkg) ?? agentIndex().byCommand.get(basename(pkg)) : undefined;
          if (cli) return this.emit(cli, words, i, i + 1, env);
          return;
        }
        continue;
      }
      if (name === 'uvx' || (name === 'uv' && next() === 'tool' && next(2) === 'run') || (name === 'pipx' && next() === 'run')) {
        i += name === 'uvx' ? 1 : name === 'uv' ? 3 : 2;
        while (i < words.length) {
          const v = words[i].value;
          if (!v.startsWith('-')) break;
          if (v === '--from' || v === '--spec') {
            viaPackage = words[i + 1]?.value;
            i += 2;
          } else if (['--with', '--python', '-p', '--pip-args', '--index-url', '--index', '-w'].includes(v)) i += 2;
          else i++;
        }
        if (i < words.length && !viaPackage) {
          const pkg = packageName(words[i].value);
          const cli = pkg ? agentIndex().byPackage.get(pkg) ?? agentIndex().byCommand.get(pkg) : undefined;
          if (cli) return this.emit(cli, words, i, i + 1, env);
          return;
        }
        continue;
      }
      if ((name === 'uv' && next() === 'run') || (['poetry', 'pipenv', 'pdm', 'hatch', 'rye'].includes(name) && next() === 'run') || ((name === 'pnpm' || name === 'yarn') && next() === 'exec')) {
        i += 2;
        skipOptions(['--with', '--python', '-p', '--project', '--directory', '--package', '--extra', '--group', '--env-file', '-e', '--env', '--filter', '-F', '--dir', '-C']);
        continue;
      }
      break;
    }
    if (i >= words.length) return;
    const cmd = words[i];
    const name = basename(cmd.value);

    if (name === 'export' || name === 'declare' || name === 'typeset') {
      for (const w of words.slice(i + 1)) {
        if (w.value.startsWith('-')) continue;
        const eq = w.value.indexOf('=');
        if (eq > 0) this.exported[w.value.slice(0, eq)] = w.value.slice(eq + 1);
        else if (w.value in assigns) this.exported[w.value] = assigns[w.value];
      }
      return;
    }
    if (SHELLS.has(name)) {
      const args = words.slice(i + 1);
      let cFlag = false;
      for (let k = 0; k < args.length; k++) {
        const v = args[k].value;
        if (v === '--') {
          if (cFlag && args[k + 1]) this.nestedScript(args[k + 1], args[k + 1].value, false);
          return;
        }
        if ((v.startsWith('-') || v.startsWith('+')) && v.length > 1) {
          if (v.startsWith('--')) continue;
          if (v.includes('o')) k++; // -o option-name
          if (v.includes('c')) cFlag = true;
          continue;
        }
        if (cFlag) this.nestedScript(args[k], v, false);
        return; // a script file
      }
      if (hasHeredoc || !cFlag) heredocOwner.script = true; // `bash <<EOF` / `bash -s <<EOF`
      return;
    }
    if (name === 'eval') {
      const args = words.slice(i + 1);
      if (args.length === 1) this.nestedScript(args[0], args[0].value, false);
      else if (args.length > 1) this.subText(args.map((a) => a.value).join(' '), { base: 0, fixed: this.range(args[0], args[args.length - 1]) });
      return;
    }
    if (PYTHONS.test(name)) {
      const args = words.slice(i + 1);
      for (let k = 0; k < args.length; k++) {
        const v = args[k].value;
        if (v === '-c' || v === '-' || !v.startsWith('-')) return;
        let mod: string | undefined;
        let modWord = k;
        if (v === '-m') {
          mod = args[k + 1]?.value;
          modWord = k + 1;
        } else if (v.startsWith('-m') && !v.startsWith('--')) mod = v.slice(2);
        else if (/^-[a-zA-Z]*[WX]$/.test(v)) {
          k++;
          continue;
        } else continue;
        if (!mod) return;
        const hit = agentIndex().modules.find((m) => mod === m.module || mod!.startsWith(`${m.module}.`));
        if (hit) this.emit(hit.cli, words, i, i + 1 + modWord + 1, env);
        return;
      }
      return;
    }
    const cli = viaPackage ? agentIndex().byPackage.get(packageName(viaPackage) ?? '') ?? agentIndex().byCommand.get(name) : agentIndex().byCommand.get(name);
    if (!cli) return;
    this.emit(cli, words, i, i + 1, env);
  }

  /** Re-reads a string argument (`bash -c`, `eval`, `env -S`, `npx -c`) as a script. */
  private nestedScript(word: Word, value: string, embedded: boolean): void {
    const map = embedded ? { base: 0, fixed: this.range(word, word) } as OffsetMap : this.mapFor(word);
    this.subText(value, map);
  }

  /** Records an invocation when the arguments make it an agent run. `from`..`argStart` are the command words. */
  private emit(cli: AgentCli, words: Word[], from: number, argStart: number, env: Record<string, string>): void {
    const args = words.slice(argStart).map((w) => w.value);
    const verdict = classifyInvocation(cli, args, env, this.exported);
    if (!verdict) return;
    // Extend the range over the subcommand words (`codex exec`, `opencode github run`).
    let last = argStart - 1;
    if (verdict.subWords) {
      let seen = 0;
      for (let k = argStart; k < words.length && seen < verdict.subWords; k++) {
        const v = words[k].value;
        if (v.startsWith('-')) {
          if (flagTakesValue(cli, v)) k++;
          continue;
        }
        seen++;
        last = k;
      }
    }
    const [start, end] = this.range(words[from], words[last]);
    const inv: CliInvocation = {
      cli,
      start,
      end,
      args,
      envAssignments: env,
      bypass: verdict.bypass,
      tools: verdict.tools,
      ...(verdict.subcommand ? { subcommand: verdict.subcommand } : {}),
      exportedEnv: { ...this.exported },
    };
    if (this.reread) rereadSet.add(inv);
    this.out.push(inv);
  }
}

function addAssignment(env: Record<string, string>, text: string): void {
  const eq = text.indexOf('=');
  env[text.slice(0, eq).replace(/\[.*$/, '').replace(/\+$/, '')] = text.slice(eq + 1);
}

function basename(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash >= 0 ? word.slice(slash + 1) : word;
}

/** `@scope/name@1.2` → `@scope/name`; `cline@nightly` → `cline`; `aider-chat==0.8` / `aider-chat[all]` → `aider-chat`. */
function packageName(spec: string): string | undefined {
  if (!spec || /^(git\+|https?:|file:|\.|\/)/.test(spec)) return undefined;
  let s = spec;
  if (s.startsWith('@')) {
    const at = s.indexOf('@', 1);
    if (at > 0) s = s.slice(0, at);
  } else {
    const cut = s.search(/[@=<>!~[;\s]/);
    if (cut > 0) s = s.slice(0, cut);
  }
  return s.toLowerCase();
}
