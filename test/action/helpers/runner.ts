// A simulated GitHub Actions runner for the Action's entry points. It builds the step's environment
// the way action.yml does (the `env:` block of its `agent-guard` step, `${{ inputs.x }}` replaced
// by the test's input or action.yml's default), so a wiring mistake in action.yml fails the tests.
// It also provides GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP and a GITHUB_EVENT_PATH payload,
// and reads the output file back with a strict parser of the runner's heredoc format.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { actionMain } from '../../../src/action';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const EVENTS = path.join(__dirname, '..', 'events');

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: { id?: string; name?: string; env?: Record<string, string>; run?: string; uses?: string; if?: string; with?: Record<string, string> }[] };
  branding?: { icon?: string; color?: string };
}

export function readActionYml(): ActionYml {
  return parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml;
}

/** The step environment action.yml gives `node dist/cli.js action <mode>` for these inputs. */
export function stepEnv(inputs: Record<string, string>): Record<string, string> {
  const action = readActionYml();
  for (const name of Object.keys(inputs)) {
    if (!(name in action.inputs)) throw new Error(`test uses input '${name}', which action.yml does not declare`);
  }
  const step = action.runs.steps.find((s) => s.id === 'agent-guard');
  if (!step?.env) throw new Error('action.yml has no agent-guard step with env');
  const env: Record<string, string> = {};
  for (const [key, template] of Object.entries(step.env)) {
    const m = /^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(String(template));
    if (!m) throw new Error(`action.yml env ${key} is not a plain inputs reference: ${template}`);
    const declared = action.inputs[m[1]];
    if (!declared) throw new Error(`action.yml env ${key} refers to undeclared input ${m[1]}`);
    env[key] = inputs[m[1]] ?? declared.default ?? '';
  }
  return env;
}

export interface SimulatedRunner {
  dir: string;
  env: Record<string, string>;
  outputs(): Record<string, string>;
  summary(): string;
  cleanup(): void;
}

export interface RunnerOptions {
  inputs?: Record<string, string>;
  /** Event name; undefined leaves GITHUB_EVENT_NAME unset. */
  event?: string;
  /** A fixture name in test/action/events, a payload object, or raw text written as the payload. */
  payload?: string | object;
  /** Skip writing a payload (GITHUB_EVENT_PATH points at a missing file). */
  noPayload?: boolean;
  env?: Record<string, string>;
}

export function simulateRunner(opts: RunnerOptions = {}): SimulatedRunner {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-runner-'));
  const outputFile = path.join(dir, 'output.txt');
  const summaryFile = path.join(dir, 'summary.md');
  const eventFile = path.join(dir, 'event.json');
  const temp = path.join(dir, 'runner-temp');
  fs.mkdirSync(temp);
  fs.writeFileSync(outputFile, '');
  fs.writeFileSync(summaryFile, '');
  if (!opts.noPayload && opts.payload !== undefined) {
    const p = opts.payload;
    const text = typeof p === 'string' ? (p.endsWith('.json') ? fs.readFileSync(path.join(EVENTS, p), 'utf8') : p) : JSON.stringify(p);
    fs.writeFileSync(eventFile, text);
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    RUNNER_TEMP: temp,
    ...stepEnv(opts.inputs ?? {}),
    ...(opts.env ?? {}),
  };
  if (opts.event !== undefined) env.GITHUB_EVENT_NAME = opts.event;
  return {
    dir,
    env,
    outputs: () => parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
    summary: () => fs.readFileSync(summaryFile, 'utf8'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Parse GITHUB_OUTPUT as the runner does: `name=value` lines, or `name<<DELIM`, lines, `DELIM`.
 * Anything else (a block without its closing delimiter, a bad line) throws, as it fails the step.
 */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        body.push(lines[i]);
      }
      if (!closed) throw new Error(`output ${name}: delimiter ${delimiter} never closes`);
      out[name] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`bad output line: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `agent-guard action <mode>` in this process, with the simulated runner's env and cwd. */
export async function runActionInProcess(mode: string, runner: SimulatedRunner, cwd: string): Promise<Ran> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await actionMain([mode], { env: runner.env, stdout, stderr, cwd }, { version: '0.0.0-test', node: process.execPath, guard: CLI });
  return { code, stdout: out, stderr: err };
}

/** Run `node dist/cli.js action <mode>` as the composite step does, in a child process. */
export function runActionProcess(mode: string, runner: SimulatedRunner, cwd: string, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'action', mode], { cwd, env: runner.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c ?? -1, stdout: out, stderr: err });
    });
  });
}

/** A throwaway repository with the given files. */
export function repoWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-repo-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

export const VULNERABLE = `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: Triage
        run: |
          claude -p "Triage: \${{ github.event.issue.title }}" --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
          NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
`;

export const SAFE = `on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: npm test
`;
