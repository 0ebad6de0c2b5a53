// Finds workflow files under the paths a user gives and loads them into the model on demand. A
// repository is indexed first with a cheap text scan (each file's `name:` and local `uses: ./…`
// targets); workflows are then parsed one at a time, so memory stays flat however many files there
// are. Every failure becomes a LintError for that file; nothing here throws for bad input.

import fs from 'node:fs';
import path from 'node:path';
import type { LintError } from '../checks/types';
import { buildAction, buildWorkflow, looksLikeAction, type CompositeAction, type Problem, type Workflow } from './model';
import { YamlLoadError, loadYaml, makeSourceFile, positionOf, type SourceFile } from './yaml';

/** Files larger than this are refused rather than parsed (real workflows average ~9 KB). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Parsed workflows kept for reuse (callees, workflow_run upstreams). */
const CACHE_SIZE = 64;

export interface IndexedFile {
  abs: string;
  /** Top-level `name:` (workflow_run refers to workflows by name). */
  name?: string;
  /** Local `uses: ./…` targets, resolved to absolute paths. */
  calls: string[];
}

/** A file fetched from another repository (`--online`). */
export interface RemoteFile {
  /** Shown to users and used as the file name in findings, e.g. `org/repo/.github/workflows/x.yml@v1`. */
  display: string;
  text: string;
  /** `owner/repo` and the commit the file was read at: job-level `./` uses inside it resolve there. */
  repository?: string;
  commit?: string;
}

/**
 * Resolves remote `uses:` synchronously from what an online pre-pass fetched. `null`: not fetched
 * (offline, or not attempted); `{ error }`: fetched and failed (404, private, rate limit).
 */
export interface RemoteResolver {
  action(uses: string): RemoteFile | { error: string } | null;
  workflow(uses: string): RemoteFile | { error: string } | null;
}

export interface Repository {
  /** The repository root local `uses: ./…` paths are relative to. */
  root: string;
  files: IndexedFile[];
  /** Absolute paths of workflows some other workflow here calls. */
  calledLocally: Set<string>;
  errors: LintError[];
  /** Text of files that have findings or errors, by display path (filled by the caller). */
  sources: Map<string, string>;
  /** Local actions by absolute directory; null when missing or unreadable. */
  actions: Map<string, CompositeAction | null>;
  /** Makes the path shown to users (relative to the working directory where possible). */
  display(absolute: string): string;
  /** Parses (or returns the cached) workflow at an absolute path; null if it cannot be read. */
  workflow(abs: string): Workflow | null;
  /** Workflows whose top-level name (or file name) is `name`, parsed lazily as the caller iterates. */
  byName(name: string): Iterable<Workflow>;
  /** Full text of a file read during this run, by display path. */
  text(display: string): string | undefined;
  stats: { files: number; workflows: number; actions: number };
  /** Set with `--online`. */
  remote?: RemoteResolver;
  /** Remote files parsed so far, by `uses:`. */
  remoteCache: Map<string, CompositeAction | Workflow | null>;
  /** Where files are read from: the disk, or the in-memory files of `LintOptions.files`. */
  reader?: FileReader;
}

export interface InputSet {
  root: string;
  files: string[];
  /** In-memory files by absolute path (under `root`); when set, nothing is read from disk. */
  memory?: Map<string, string>;
}

/** Reads files for a repository; `size` and `read` throw (with a `code`) when the file is missing. */
export interface FileReader {
  size(abs: string): number;
  read(abs: string): string;
  exists(abs: string): boolean;
}

const DISK: FileReader = {
  size: (abs) => fs.statSync(abs).size,
  read: (abs) => fs.readFileSync(abs, 'utf8'),
  exists: (abs) => fs.existsSync(abs),
};

function memoryReader(files: Map<string, string>): FileReader {
  const get = (abs: string) => {
    const text = files.get(abs);
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return text;
  };
  return { size: (abs) => Buffer.byteLength(get(abs)), read: get, exists: (abs) => files.has(abs) };
}

/** Where in-memory repositories live; paths are shown relative to it. Nothing is read there. */
const MEMORY_ROOT = path.resolve('/', 'agent-guard-memory');

/**
 * An in-memory repository (`LintOptions.files`, used by the organisation scan): files by path relative
 * to the repository root. Its workflows are the `.github/workflows/*.yml` among them; the others
 * (local actions, called workflows) are there for `./` uses to resolve.
 */
export function memorySets(files: { path: string; text: string }[], notes: string[] = []): InputSet[] {
  const memory = new Map<string, string>();
  for (const f of files) {
    const abs = path.resolve(MEMORY_ROOT, f.path.replace(/^\/+/, ''));
    const rel = path.relative(MEMORY_ROOT, abs);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) memory.set(abs, f.text);
  }
  const workflowsDir = path.join(MEMORY_ROOT, '.github', 'workflows');
  const workflows = [...memory.keys()].filter((abs) => path.dirname(abs) === workflowsDir && WORKFLOW_EXT.test(abs)).sort();
  if (!workflows.length) {
    notes.push(nothingToLint('the repository'));
    return [];
  }
  return [{ root: MEMORY_ROOT, files: workflows, memory }];
}

const WORKFLOW_EXT = /\.ya?ml$/i;

/** What a folder without workflows says: a note, not an error (an empty repository is fine). */
export function nothingToLint(where: string): string {
  return `nothing to lint: no workflow files in ${where} (looked for .github/workflows/*.yml)`;
}

/**
 * Turns the command-line paths into repositories and their workflow files. A path that does not
 * exist is an error; a folder with no workflows in it is a note in `notes`.
 */
export function discover(paths: string[], errors: LintError[], notes: string[] = [], cwd = process.cwd()): InputSet[] {
  const sets: InputSet[] = [];
  for (const given of paths.length ? paths : ['.']) {
    const abs = path.resolve(given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      errors.push({ file: given, line: 1, column: 1, message: 'no such file or directory' });
      continue;
    }
    if (stat.isFile()) {
      sets.push({ root: guessRoot(path.dirname(abs)), files: [abs] });
      continue;
    }
    const dir = workflowDir(abs);
    const files = dir ? listYaml(dir) : [];
    if (!files.length) {
      notes.push(nothingToLint(shownPath(abs, cwd)));
      continue;
    }
    sets.push({ root: guessRoot(dir!), files });
  }
  return sets;
}

/**
 * `owner/name` from the git remote `origin` of the repository that holds `root` (a clone, or a
 * worktree of one), or undefined when there is none. Only the config file is read; nothing is run.
 */
export function repositoryIdentity(root: string): string | undefined {
  let dir = path.resolve(root);
  for (let up = 0; up < 20; up++) {
    const dotGit = path.join(dir, '.git');
    const config = gitConfigPath(dotGit);
    if (config) return originOf(readText(config));
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/** The config file of a `.git` directory, or of the repository a worktree's `.git` file points to. */
function gitConfigPath(dotGit: string): string | undefined {
  try {
    if (fs.statSync(dotGit).isDirectory()) return path.join(dotGit, 'config');
    const pointer = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
    if (!pointer) return undefined;
    const gitdir = path.resolve(path.dirname(dotGit), pointer[1].trim());
    const common = readText(path.join(gitdir, 'commondir')).trim();
    return path.join(common ? path.resolve(gitdir, common) : gitdir, 'config');
  } catch {
    return undefined;
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `owner/name` from the `url` of `[remote "origin"]` (https, ssh or scp-like). */
function originOf(config: string): string | undefined {
  const section = /^\[remote\s+"origin"\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(config);
  const url = section && /^\s*url\s*=\s*(\S+)\s*$/m.exec(section[1]);
  const match = url && /[:/]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url[1]);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** A path as the user knows it: relative to `cwd` when inside it. */
function shownPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel.split(path.sep).join('/');
}

/**
 * Where the workflows of a folder given on the command line are: `.github/workflows` under a
 * repository root or in a `.github` folder, else the folder itself, unless it is a repository root
 * (holds `.git` or `.github`), whose other YAML files (compose files, configs) are not workflows.
 */
function workflowDir(dir: string): string | undefined {
  const nested = path.join(dir, '.github', 'workflows');
  if (isDir(nested)) return nested;
  if (path.basename(dir) === '.github') return isDir(path.join(dir, 'workflows')) ? path.join(dir, 'workflows') : undefined;
  if (fs.existsSync(path.join(dir, '.git')) || isDir(path.join(dir, '.github'))) return undefined;
  return dir;
}

/** `<root>/.github/workflows` → `<root>`; anything else is its own root. */
function guessRoot(dir: string): string {
  if (path.basename(dir) === 'workflows' && path.basename(path.dirname(dir)) === '.github') {
    return path.dirname(path.dirname(dir));
  }
  if (path.basename(dir) === '.github') return path.dirname(dir);
  return dir;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function listYaml(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && WORKFLOW_EXT.test(d.name))
      .map((d) => path.join(dir, d.name))
      .sort();
  } catch {
    return [];
  }
}

const TOP_NAME = /^name:[ \t]*(?:"([^"]*)"|'([^']*)'|([^#\n]*?))[ \t]*(?:#.*)?$/m;
const LOCAL_USES = /\buses:[ \t]*["']?(\.\/[^\s"'#]+)/g;

/** The git repository (a folder holding `.git`) that `dir` is in, if any. */
export function enclosingRepository(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, '.git'))) return at;
    if (path.dirname(at) === at) return undefined;
  }
}

/**
 * The folder reported paths are relative to: the repository the inputs are in (the enclosing git
 * repository, else the folder that holds `.github`), so every format shows `.github/workflows/x.yml`
 * wherever lint runs from, as GitHub, code scanning and baselines want. Inputs in several
 * repositories are shown relative to the folder that holds them all, which keeps them apart.
 */
export function reportRoot(sets: InputSet[], fallback: string): string {
  const roots = sets.filter((s) => !s.memory).map((s) => enclosingRepository(s.root) ?? s.root);
  if (!roots.length) return path.resolve(fallback);
  let common = roots[0];
  for (const r of roots.slice(1)) while (path.relative(common, r).startsWith('..')) common = path.dirname(common);
  return common;
}

/** `cwd` is the folder paths are shown relative to (see {@link reportRoot}). */
export function openRepository(set: InputSet, cwd = process.cwd(), remote?: RemoteResolver): Repository {
  const reader = set.memory ? memoryReader(set.memory) : DISK;
  if (set.memory) cwd = set.root; // in-memory files are shown relative to their repository
  const errors: LintError[] = [];
  const reported = new Set<string>();
  const cache = new Map<string, Workflow | null>();
  const texts = new Map<string, string>();
  const remoteTexts = new Map<string, string>();
  const display = (abs: string) => {
    const rel = path.relative(cwd, abs);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
  };
  const repo: Repository = {
    root: set.root,
    files: [],
    calledLocally: new Set(),
    errors,
    sources: new Map(),
    actions: new Map(),
    display,
    stats: { files: 0, workflows: 0, actions: 0 },
    remote,
    remoteCache: new Map(),
    reader,
    text: (shown) => texts.get(shown) ?? remoteTexts.get(shown) ?? set.memory?.get(path.resolve(set.root, shown)),
    workflow(abs) {
      if (cache.has(abs)) {
        const hit = cache.get(abs) ?? null;
        cache.delete(abs); // most recently used goes last
        cache.set(abs, hit);
        return hit;
      }
      const loaded = readYamlFile(repo, abs, reported, texts);
      let workflow: Workflow | null = null;
      if (loaded && !looksLikeAction(loaded.root)) {
        workflow = buildWorkflow(loaded.file, loaded.root);
        if (!reported.has(`problems:${abs}`)) {
          reported.add(`problems:${abs}`);
          reportProblems(repo, loaded.file, workflow.problems);
        }
      }
      cache.set(abs, workflow);
      if (cache.size > CACHE_SIZE) {
        const oldest = cache.keys().next().value as string;
        cache.delete(oldest);
        texts.delete(display(oldest));
      }
      return workflow;
    },
    *byName(name) {
      for (const f of repo.files) {
        if (f.name !== name && path.basename(f.abs) !== name) continue;
        const workflow = repo.workflow(f.abs);
        if (workflow) yield workflow;
      }
    },
  };
  remoteTextsByRepo.set(repo, remoteTexts);
  for (const abs of set.files) {
    const entry: IndexedFile = { abs, calls: [] };
    try {
      const text = reader.size(abs) <= MAX_FILE_BYTES ? reader.read(abs) : '';
      const name = TOP_NAME.exec(text);
      if (name) entry.name = (name[1] ?? name[2] ?? name[3] ?? '').trim();
      for (const m of text.matchAll(LOCAL_USES)) {
        const target = localPath(repo, m[1]);
        if (target) {
          entry.calls.push(target);
          repo.calledLocally.add(target);
        }
      }
    } catch {
      // Reported when the file is parsed.
    }
    repo.files.push(entry);
  }
  return repo;
}

interface LoadedYaml {
  file: SourceFile;
  root: ReturnType<typeof loadYaml>;
}

function readYamlFile(repo: Repository, abs: string, reported: Set<string>, texts: Map<string, string>): LoadedYaml | null {
  const shown = repo.display(abs);
  const report = (line: number, column: number, message: string) => {
    if (reported.has(abs)) return;
    reported.add(abs);
    repo.errors.push({ file: shown, line, column, message });
  };
  let text: string;
  try {
    const size = (repo.reader ?? DISK).size(abs);
    if (size > MAX_FILE_BYTES) {
      report(1, 1, `file is too large to be a workflow (${size} bytes)`);
      return null;
    }
    text = (repo.reader ?? DISK).read(abs);
  } catch (err) {
    report(1, 1, `cannot read file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return null;
  }
  if (!reported.has(`read:${abs}`)) {
    reported.add(`read:${abs}`);
    repo.stats.files++;
  }
  const file = makeSourceFile(shown, text);
  texts.set(shown, text);
  try {
    return { file, root: loadYaml(file) };
  } catch (err) {
    const offset = err instanceof YamlLoadError ? err.offset : 0;
    const pos = positionOf(file, Math.min(offset, text.length));
    const message = err instanceof Error ? err.message : String(err);
    report(pos.line, pos.column, `invalid YAML: ${message}`);
    return null;
  }
}

function reportProblems(repo: Repository, file: SourceFile, problems: Problem[]): void {
  for (const problem of problems) {
    const pos = positionOf(file, problem.offset);
    repo.errors.push({ file: file.path, line: pos.line, column: pos.column, message: problem.message });
  }
}

/** `./path` relative to the repository root; null for remote or docker actions. */
export function localPath(repo: Pick<Repository, 'root'>, uses: string): string | null {
  if (!uses.startsWith('./')) return null;
  const target = path.resolve(repo.root, uses.replace(/@.*$/, ''));
  // Never follow a `uses:` out of the repository.
  const rel = path.relative(repo.root, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return target;
}

export function resolveLocalAction(repo: Repository, uses: string): CompositeAction | null {
  const dir = localPath(repo, uses);
  if (!dir) return null;
  if (repo.actions.has(dir)) return repo.actions.get(dir) ?? null;
  repo.actions.set(dir, null); // cycle guard while loading
  const file = ['action.yml', 'action.yaml'].map((n) => path.join(dir, n)).find((p) => (repo.reader ?? DISK).exists(p));
  if (!file) return null;
  const loaded = readYamlFile(repo, file, new Set(), new Map());
  if (!loaded) return null;
  repo.sources.set(loaded.file.path, loaded.file.text);
  const action = buildAction(loaded.file, loaded.root);
  reportProblems(repo, loaded.file, action.problems);
  repo.actions.set(dir, action);
  repo.stats.actions++;
  return action;
}

export function resolveLocalWorkflow(repo: Repository, uses: string): Workflow | null {
  const abs = localPath(repo, uses);
  if (!abs || !(repo.reader ?? DISK).exists(abs)) return null;
  return repo.workflow(abs);
}

const remoteTextsByRepo = new WeakMap<Repository, Map<string, string>>();

/** A remote composite action or reusable workflow, parsed from what the online pre-pass fetched. */
function resolveRemote<T extends CompositeAction | Workflow>(repo: Repository, uses: string, kind: 'action' | 'workflow'): T | null {
  if (!repo.remote || uses.startsWith('./') || uses.startsWith('docker://')) return null;
  const key = `${kind}:${uses}`;
  if (repo.remoteCache.has(key)) return (repo.remoteCache.get(key) as T | null) ?? null;
  repo.remoteCache.set(key, null); // cycle guard
  const fetched = kind === 'action' ? repo.remote.action(uses) : repo.remote.workflow(uses);
  if (!fetched || 'error' in fetched) return null;
  const file = makeSourceFile(fetched.display, fetched.text);
  remoteTextsByRepo.get(repo)?.set(fetched.display, fetched.text);
  let root;
  try {
    root = loadYaml(file);
  } catch (err) {
    const pos = positionOf(file, err instanceof YamlLoadError ? err.offset : 0);
    repo.errors.push({ file: fetched.display, line: pos.line, column: pos.column, message: `invalid YAML: ${(err as Error).message}` });
    return null;
  }
  const built = kind === 'action' ? buildAction(file, root) : buildWorkflow(file, root);
  if (fetched.repository && fetched.commit) remoteOrigins.set(built, { repository: fetched.repository, commit: fetched.commit });
  reportProblems(repo, file, built.problems);
  repo.remoteCache.set(key, built);
  return built as T;
}

export function resolveRemoteAction(repo: Repository, uses: string): CompositeAction | null {
  return resolveRemote<CompositeAction>(repo, uses, 'action');
}

export function resolveRemoteWorkflow(repo: Repository, uses: string): Workflow | null {
  return resolveRemote<Workflow>(repo, uses, 'workflow');
}

const remoteOrigins = new WeakMap<CompositeAction | Workflow, { repository: string; commit: string }>();

/**
 * The `uses:` of a job in `from` as the runner resolves it: `./…` in a remote reusable workflow is a
 * workflow of that repository at the same commit (GitHub docs: "the called workflow is from the same
 * commit as the caller workflow"); anything else is unchanged.
 */
export function effectiveWorkflowUses(uses: string, from: Workflow): string {
  const origin = uses.startsWith('./') ? remoteOrigins.get(from) : undefined;
  return origin ? `${origin.repository}/${uses.slice(2).replace(/@.*$/, '')}@${origin.commit}` : uses;
}

/** The workflow a job-level `uses:` in `from` calls: local, remote, or local to a remote caller. */
export function resolveCalledWorkflow(repo: Repository, uses: string, from: Workflow): Workflow | null {
  const target = effectiveWorkflowUses(uses, from);
  return target.startsWith('./') ? resolveLocalWorkflow(repo, target) : resolveRemoteWorkflow(repo, target);
}
