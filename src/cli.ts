// The command line. One thin file: parse words, delegate to a command, map results to exit codes.

import fs from 'node:fs';
import { severityRank, SEVERITIES, type Severity } from './checks/types';
import { ConfigError, readConfig } from './config';
import { actionMain } from './action';
import { applyBaseline, baselineNote, createBaseline, readBaseline, writeBaseline } from './baseline';
import { doctorMain, runMain } from './guard/command';
import { applyMain } from './guard/grants/apply';
import { wrapMain } from './guard/wrap';
import { defaultConfigPath, lint } from './lint';
import { lintInParallel, serveShareIfWorker } from './parallel';
import { OnlineUsageError, parseOnlineFlag, prefetchForLint, scanMain, type OnlineFlags } from './online/command';
import { colorEnabled, formatReport, isFormat, type Format } from './report';
import { asksForHelp, HELP, helpFor } from './help';
import { ArgReader } from './args';

export const VERSION = '0.1.0';

/** The library entry points, for the Action and the benchmarks. */
export { lint };

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && HELP[command] && asksForHelp(rest)) {
    process.stdout.write(helpFor(command));
    return 0;
  }
  try {
    switch (command) {
      case 'lint':
        return await lintCommand(rest);
      case 'scan':
        return await scanMain(rest, VERSION);
      case 'run':
        return await runMain(rest);
      case 'doctor':
        return await doctorMain(rest);
      case 'apply':
        return await applyMain(rest, processIO());
      case 'wrap':
        return wrapMain(rest, { ...processIO(), node: process.execPath, guard: process.argv[1] });
      case 'action':
        return await actionMain(rest, processIO(), { version: VERSION, node: process.execPath, guard: process.argv[1] });
      case 'version':
      case '--version':
        process.stdout.write(`agent-guard ${VERSION}\n`);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(helpFor(rest[0]));
        return 0;
      case undefined:
        process.stderr.write(helpFor(undefined));
        return 2;
      default:
        throw new UsageError(`unknown command '${command}' (agent-guard --help lists them)`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof OnlineUsageError) {
      process.stderr.write(`agent-guard: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`agent-guard: internal error: ${(err as Error).message}\n`);
    return 2;
  }
}

interface LintArgs extends OnlineFlags {
  paths: string[];
  format: Format;
  failOn: Severity | 'none';
  config?: string;
  output?: string;
  baseline?: string;
  writeBaseline?: string;
  online?: boolean;
  repository?: string;
}

function processIO() {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

function parseLintArgs(args: string[]): LintArgs {
  const out: LintArgs = { paths: [], format: 'text', failOn: 'high' };
  const reader = new ArgReader(args, (message) => new UsageError(message));
  while (reader.next()) {
    const { arg, flag } = reader;
    const value = () => reader.value();
    switch (flag) {
      case '--format': {
        const f = value();
        if (!isFormat(f)) throw new UsageError(`unknown format '${f}' (text, json, sarif, github)`);
        out.format = f;
        break;
      }
      case '--fail-on': {
        const s = value();
        if (s !== 'none' && !(SEVERITIES as readonly string[]).includes(s)) throw new UsageError(`--fail-on takes critical, high, medium, low or none, not '${s}'`);
        out.failOn = s as Severity | 'none';
        break;
      }
      case '--config':
        out.config = value();
        break;
      case '--output':
      case '-o':
        out.output = value();
        break;
      case '--baseline':
        out.baseline = value();
        break;
      case '--write-baseline':
        out.writeBaseline = value();
        break;
      case '--online':
        out.online = true;
        break;
      case '--repository': {
        const r = value();
        if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(r)) throw new UsageError(`--repository takes OWNER/NAME, not '${r}'`);
        out.repository = r;
        break;
      }
      default:
        if (parseOnlineFlag(flag, value, out)) break;
        if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option '${flag}'`);
        out.paths.push(arg);
    }
  }
  return out;
}

async function lintCommand(rawArgs: string[]): Promise<number> {
  const args = parseLintArgs(rawArgs);
  if ((args.noCache || args.onRateLimit || args.maxWait || args.maxDepth) && !args.online) {
    throw new UsageError('--no-cache, --on-rate-limit, --max-wait and --max-depth go with --online');
  }
  for (const given of args.paths) if (!fs.existsSync(given)) throw new UsageError(`${given}: no such file or directory`);
  const configPath = args.config ?? defaultConfigPath(args.paths);
  const config = configPath ? readConfig(configPath) : undefined;
  const remote = args.online ? await prefetchForLint(args.paths, args, VERSION) : undefined;
  // Large offline runs use every core (the bundled CLI is its own worker script).
  const repository = args.repository;
  let result = remote ? lint({ paths: args.paths, config, remote, repository }) : await lintInParallel({ paths: args.paths, config, repository }, __filename);
  const all = result.findings;
  if (args.baseline) {
    const outcome = applyBaseline(all, readBaseline(args.baseline), result.root ?? process.cwd());
    process.stderr.write(`agent-guard: ${baselineNote(args.baseline, outcome)}\n`);
    result = { ...result, findings: outcome.fresh };
  }
  if (args.writeBaseline) {
    writeBaseline(args.writeBaseline, createBaseline(all, result.root ?? process.cwd()));
    process.stderr.write(`agent-guard: wrote ${all.length} finding${all.length === 1 ? '' : 's'} to baseline ${args.writeBaseline}\n`);
  }
  for (const note of result.notes ?? []) process.stderr.write(`agent-guard: ${note}\n`);
  const toStdout = !args.output;
  const report = formatReport(result, args.format, {
    color: toStdout && args.format === 'text' && colorEnabled(process.stdout.isTTY, process.env),
    toolVersion: VERSION,
    root: result.root ?? process.cwd(),
  });
  if (args.output) writeOutput(args.output, report);
  else process.stdout.write(report);
  // No workflow could be read (missing, unreadable or unparseable): fail rather than pass silently.
  const nothingRead = result.stats.workflows === 0 && result.errors.length > 0;
  if (nothingRead) return 2;
  if (args.failOn === 'none' || args.writeBaseline) return 0;
  const threshold = severityRank(args.failOn);
  return result.findings.some((f) => severityRank(f.severity) >= threshold) ? 1 : 0;
}

function writeOutput(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

if (serveShareIfWorker()) {
  // A lint worker: it has answered and exits.
} else if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`agent-guard: internal error: ${(err as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
