// Agents installed where the jail masks: `~/.local/bin` (pipx, uv tool, the goose and Claude Code
// installers), `~/.opencode/bin`, nvm or an npm prefix under HOME, a download under /tmp. The jail
// hides those folders whole, so the guard finds each program the agent could run and brings back
// exactly what it needs, read-only, at the same path:
//   * the program named by the command, and every executable in a PATH folder that sits under a
//     masked folder (an Action's `run:` goes through `bash -c`, so the guard cannot know which of
//     them the script calls);
//   * every symlink on the way (`~/.local/bin/aider -> ~/.local/share/uv/tools/aider-chat/bin/aider`,
//     `~/.nvm/current -> versions/...`), recreated as a symlink;
//   * the install the program belongs to: an npm package's whole node_modules folder, a Python
//     virtual environment (the folder with pyvenv.cfg) and the interpreter it was made from, the
//     interpreter named on a script's `#!` line, or else the file alone.
// Never a whole HOME, `~/.config`, a masked folder itself, or a folder holding a credential file:
// the command itself then fails with a line that says what to change; a PATH entry is left out.
import fs from 'node:fs';
import path from 'node:path';

/** Most executables taken from one PATH folder: a folder of thousands is not an agent install. */
const MAX_PER_DIR = 256;
const MAX_DEPTH = 8;
/** Enough of a file for its `#!` line. */
const HEAD = Buffer.alloc(256);

export interface ExposeContext {
  masked: string[];
  /** Paths the jail shows anyway (the workspace): nothing to do there. */
  shown: string[];
  /** Folders never exposed whole, nor anything that contains them (HOME, ~/.config, RUNNER_TEMP, …). */
  neverWhole: string[];
  /** Credential files and folders: never exposed, nor any folder holding one. */
  credentials: string[];
}

export interface Exposure {
  /** Real paths bound read-only at the same path, outermost first. */
  binds: string[];
  /** Symlinks recreated in the jail: path → link text. */
  symlinks: Map<string, string>;
  /** PATH entries or programs left out, and why (for the hint when a command is not found). */
  skipped: string[];
}

export class ExposeError extends Error {}

/** For absolute, normalised paths (every path here is): a string test, as path.relative is slow in loops. */
function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);
}

/** What one program needs; merged into the exposure only when all of it can be shown. */
interface Found {
  roots: string[];
  symlinks: [string, string][];
}

export class InstallExposer {
  private readonly roots = new Set<string>();
  private readonly symlinks = new Map<string, string>();
  private readonly skipped: string[] = [];
  /** A PATH folder of a hundred programs walks the same folders a hundred times: ask the kernel once. */
  private readonly stats = new Map<string, fs.Stats | undefined>();

  constructor(private readonly ctx: ExposeContext) {}

  private lstat(p: string): fs.Stats | undefined {
    if (!this.stats.has(p)) {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(p, { throwIfNoEntry: false });
      } catch {
        st = undefined;
      }
      this.stats.set(p, st);
    }
    return this.stats.get(p);
  }

  private isMasked(p: string): boolean {
    return this.ctx.masked.some((m) => isWithin(p, m)) && !this.ctx.shown.some((s) => isWithin(p, s));
  }

  /** Why `root` must not be shown, or undefined when it may. */
  private refusal(root: string): string | undefined {
    if (this.ctx.masked.includes(root)) return `${root} is a folder the jail masks whole`;
    const whole = this.ctx.neverWhole.find((n) => isWithin(n, root));
    if (whole) return `showing ${root} would show all of ${whole}`;
    const cred = this.ctx.credentials.find((c) => isWithin(c, root) || isWithin(root, c));
    if (cred) return `${root} holds or is the credential file ${cred}`;
    return undefined;
  }

  /**
   * Walk `p` component by component as the kernel would, noting each symlink that lies in a masked
   * folder (the jail needs it recreated); returns the real path.
   */
  private follow(p: string, depth: number, found: Found): string {
    if (depth > MAX_DEPTH) throw new ExposeError(`${p}: too many levels of symlinks`);
    let cur = '/';
    for (const part of p.split('/').filter(Boolean)) {
      const next = path.join(cur, part);
      const st = this.lstat(next);
      if (!st) throw new ExposeError(`${next} does not exist`);
      if (st.isSymbolicLink()) {
        const link = fs.readlinkSync(next);
        if (this.isMasked(next)) found.symlinks.push([next, link]);
        const target = this.follow(path.resolve(cur, link), depth + 1, found);
        // The repository chose this link: it must not reach into what the jail hides.
        if (this.ctx.shown.some((s) => isWithin(next, s)) && this.isMasked(target)) {
          throw new ExposeError(`${next} is a symlink in the workspace to ${target}, which the jail hides`);
        }
        cur = target;
      } else {
        cur = next;
      }
    }
    return cur;
  }

  private addRoot(root: string, found: Found): void {
    const why = this.refusal(root);
    if (why) throw new ExposeError(why);
    found.roots.push(root);
  }

  /** The Python a virtual environment was made from, when it lives in a masked folder (uv's own Pythons). */
  private venvInterpreter(venv: string, depth: number, found: Found): void {
    const python = ['python', 'python3'].map((n) => path.join(venv, 'bin', n)).find((p) => this.lstat(p));
    if (!python) return;
    const real = this.follow(python, depth + 1, found);
    if (!this.isMasked(real)) return;
    const prefix = path.dirname(path.dirname(real));
    this.addRoot(fs.existsSync(path.join(prefix, 'lib')) ? prefix : real, found);
  }

  /** The interpreter on a script's `#!` line, when it lives in a masked folder. */
  private shebang(file: string, depth: number, found: Found): void {
    let head = '';
    try {
      const fd = fs.openSync(file, 'r');
      try {
        head = HEAD.subarray(0, fs.readSync(fd, HEAD, 0, HEAD.length, 0)).toString('latin1');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return;
    }
    const m = /^#!\s*(\/\S+)/.exec(head);
    if (m && this.isMasked(m[1])) this.program(m[1], depth + 1, found);
  }

  private program(p: string, depth: number, found: Found): void {
    if (depth > MAX_DEPTH) throw new ExposeError(`${p}: too many levels of interpreters and links`);
    const real = this.follow(p, depth, found);
    if (!this.isMasked(real)) return;
    const nm = real.lastIndexOf('/node_modules/');
    if (nm >= 0) {
      // npm CLIs load sibling packages (Codex its platform binary, others their dependencies).
      this.addRoot(real.slice(0, nm) + '/node_modules', found);
      return;
    }
    // A virtual environment's scripts sit in <venv>/bin.
    const venv = path.dirname(path.dirname(real));
    if (this.lstat(path.join(venv, 'pyvenv.cfg'))) {
      this.addRoot(venv, found);
      this.venvInterpreter(venv, depth, found);
      return;
    }
    this.addRoot(real, found);
    this.shebang(real, depth, found);
  }

  private merge(found: Found): void {
    for (const r of found.roots) this.roots.add(r);
    for (const [p, link] of found.symlinks) this.symlinks.set(p, link);
  }

  /** A program the jail must run (node for init, the agent's command). Throws ExposeError when it cannot be shown. */
  require(p: string): void {
    const found: Found = { roots: [], symlinks: [] };
    this.program(p, 0, found);
    this.merge(found);
  }

  /** Every executable in a PATH folder under a masked folder; what cannot be shown is noted, not fatal. */
  pathDir(dir: string): void {
    if (!path.isAbsolute(dir) || !this.isMasked(dir)) return;
    if (this.ctx.masked.includes(dir) || this.ctx.neverWhole.some((n) => isWithin(n, dir))) {
      this.skipped.push(`PATH entry ${dir} is a folder the jail masks whole (or holds one)`);
      return;
    }
    const reach: Found = { roots: [], symlinks: [] };
    let real: string;
    let entries: fs.Dirent[];
    try {
      real = this.follow(dir, 0, reach);
      entries = fs.readdirSync(real, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    // What each entry is once links are followed: an executable file (a program) or something else.
    const programs = entries.slice(0, MAX_PER_DIR).filter((e) => {
      const st = e.isFile() || e.isSymbolicLink() ? fs.statSync(path.join(real, e.name), { throwIfNoEntry: false }) : undefined;
      return st?.isFile() && (st.mode & 0o111) !== 0;
    });
    // A folder of programs and links only (~/.local/bin, ~/.cargo/bin, pyenv's shims) is shown as a
    // whole: one mount instead of one per program. Anything else in it, and only its programs go.
    const whole = entries.length <= MAX_PER_DIR && entries.every((e) => e.isSymbolicLink() || programs.includes(e)) && !this.refusal(real);
    if (whole) this.merge({ roots: [real], symlinks: reach.symlinks });
    for (const e of programs) {
      const p = path.join(real, e.name);
      const found: Found = { roots: [], symlinks: [...reach.symlinks] };
      try {
        // A plain file in a folder shown whole is there already; only its `#!` interpreter may be missing.
        if (whole && e.isFile()) this.shebang(p, 0, found);
        else this.program(p, 0, found);
        this.merge(found);
      } catch (err) {
        this.skipped.push(`${path.join(dir, e.name)}: ${(err as Error).message}`);
      }
    }
  }

  result(): Exposure {
    // Outermost first, and nothing inside a folder that is bound already.
    const sorted = [...this.roots].sort((a, b) => a.length - b.length);
    const binds = sorted.filter((r, i) => !sorted.slice(0, i).some((o) => isWithin(r, o)));
    const symlinks = new Map([...this.symlinks].filter(([p]) => !binds.some((b) => isWithin(p, b))));
    return { binds, symlinks, skipped: [...this.skipped] };
  }
}
