// `.github/agent-guard.yml` (or --config): ignores, severity overrides, trusted users and bots, extra
// agents. Unknown keys are errors with a line, because a typo in a security tool's config must not
// silently turn a check off.

import fs from 'node:fs';
import type { AgentAction, AgentCli } from './analysis/ruleTypes';
import { RULE_IDS } from './checks';
import { SEVERITIES, type Severity } from './checks/types';
import { globProblem } from './glob';
import { loadYaml, makeSourceFile, positionOf, type SourceFile, type YMap, type YNode, YamlLoadError } from './workflow/yaml';

export interface IgnoreRule {
  rule?: string;
  /** A glob matched against the path and its trailing parts (see src/glob.ts). */
  file?: string;
  job?: string;
}

export interface Config {
  ignore: IgnoreRule[];
  severity: Record<string, Severity>;
  trustedUsers: string[];
  trustedBots: string[];
  actions: AgentAction[];
  clis: AgentCli[];
}

export const EMPTY_CONFIG: Config = { ignore: [], severity: {}, trustedUsers: [], trustedBots: [], actions: [], clis: [] };

export class ConfigError extends Error {}

export function readConfig(path: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}:1:1: cannot read config: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(path, text);
}

export function parseConfig(path: string, text: string): Config {
  const file = makeSourceFile(path, text);
  let root: YNode | null;
  try {
    root = loadYaml(file);
  } catch (err) {
    const pos = positionOf(file, err instanceof YamlLoadError ? err.offset : 0);
    throw new ConfigError(`${path}:${pos.line}:${pos.column}: invalid YAML: ${(err as Error).message}`);
  }
  const config: Config = { ignore: [], severity: {}, trustedUsers: [], trustedBots: [], actions: [], clis: [] };
  if (!root || (root.kind === 'scalar' && root.value === null)) return config;
  const fail = (node: YNode, message: string): never => {
    const pos = positionOf(file, node.start);
    throw new ConfigError(`${path}:${pos.line}:${pos.column}: ${message}`);
  };
  const map = expectMap(root, 'the config', fail);
  for (const { key, value } of map.pairs) {
    switch (key.text) {
      case 'ignore':
        config.ignore = expectSeq(value, 'ignore', fail).map((item) => readIgnore(item, fail));
        break;
      case 'severity':
        for (const p of expectMap(value, 'severity', fail).pairs) {
          const level = p.value.kind === 'scalar' ? p.value.text : '';
          if (!(SEVERITIES as readonly string[]).includes(level)) fail(p.value, `severity of '${p.key.text}' must be one of ${SEVERITIES.join(', ')}`);
          checkRuleId(p.key, p.key.text, fail);
          config.severity[p.key.text] = level as Severity;
        }
        break;
      case 'trusted-users':
        config.trustedUsers = strings(value, 'trusted-users', fail);
        break;
      case 'trusted-bots':
        config.trustedBots = strings(value, 'trusted-bots', fail);
        break;
      case 'agents':
        readAgents(value, config, fail, file);
        break;
      default:
        fail(key, `unknown key '${key.text}' (expected ignore, severity, trusted-users, trusted-bots, agents)`);
    }
  }
  return config;
}

type Fail = (node: YNode, message: string) => never;

/** A rule id that no rule has would silently ignore nothing (or override nothing): an error. */
function checkRuleId(node: YNode, id: string, fail: Fail): string {
  if (!RULE_IDS.includes(id)) fail(node, unknownRuleMessage(id));
  return id;
}

export function unknownRuleMessage(id: string): string {
  return `unknown rule '${id}' (rules: ${RULE_IDS.join(', ')})`;
}

function expectMap(node: YNode, what: string, fail: Fail): YMap {
  if (node.kind !== 'map') fail(node, `${what} must be a mapping`);
  return node as YMap;
}

function expectSeq(node: YNode, what: string, fail: Fail): YNode[] {
  if (node.kind !== 'seq') fail(node, `${what} must be a list`);
  return (node as { items: YNode[] }).items;
}

function strings(node: YNode, what: string, fail: Fail): string[] {
  return expectSeq(node, what, fail).map((i) => (i.kind === 'scalar' ? i.text : fail(i, `${what} entries must be strings`)));
}

function readIgnore(node: YNode, fail: Fail): IgnoreRule {
  const out: IgnoreRule = {};
  for (const { key, value } of expectMap(node, 'an ignore entry', fail).pairs) {
    if (value.kind !== 'scalar') fail(value, `'${key.text}' must be a string`);
    const text = (value as { text: string }).text;
    if (key.text === 'rule') out.rule = checkRuleId(value, text, fail);
    else if (key.text === 'file') {
      const problem = globProblem(text);
      if (problem) fail(value, `file: ${problem}`);
      out.file = text;
    }
    else if (key.text === 'job') out.job = text;
    else fail(key, `unknown key '${key.text}' in ignore entry (expected rule, file, job)`);
  }
  if (!out.rule && !out.file && !out.job) fail(node, 'an ignore entry needs rule, file or job');
  return out;
}

function readAgents(node: YNode, config: Config, fail: Fail, file: SourceFile): void {
  for (const { key, value } of expectMap(node, 'agents', fail).pairs) {
    if (key.text === 'actions') {
      for (const item of expectSeq(value, 'agents.actions', fail)) config.actions.push(readAction(item, fail));
    } else if (key.text === 'commands') {
      for (const item of expectSeq(value, 'agents.commands', fail)) config.clis.push(readCommand(item, fail));
    } else fail(key, `unknown key '${key.text}' in agents (expected actions, commands)`);
  }
  void file;
}

const SHELLS = ['full', 'restricted', 'none'];

function readAction(node: YNode, fail: Fail): AgentAction {
  const m = expectMap(node, 'an agent action', fail);
  const fields: Record<string, YNode> = {};
  for (const p of m.pairs) {
    if (!['uses', 'name', 'prompt-inputs', 'key-inputs', 'token-inputs', 'shell', 'network', 'reads-thread'].includes(p.key.text)) {
      fail(p.key, `unknown key '${p.key.text}' in agent action (expected uses, name, prompt-inputs, key-inputs, token-inputs, shell, network, reads-thread)`);
    }
    fields[p.key.text] = p.value;
  }
  if (!fields.uses || fields.uses.kind !== 'scalar') fail(node, "an agent action needs 'uses'");
  const uses = (fields.uses as { text: string }).text;
  const shell = fields.shell?.kind === 'scalar' ? fields.shell.text : 'none';
  if (!SHELLS.includes(shell)) fail(fields.shell!, `shell must be one of ${SHELLS.join(', ')}`);
  return {
    id: `config:${uses}`,
    name: fields.name?.kind === 'scalar' ? fields.name.text : uses,
    uses: [uses],
    promptInputs: fields['prompt-inputs'] ? strings(fields['prompt-inputs'], 'prompt-inputs', fail) : ['prompt'],
    keyInputs: fields['key-inputs'] ? strings(fields['key-inputs'], 'key-inputs', fail) : [],
    tokenInputs: fields['token-inputs'] ? strings(fields['token-inputs'], 'token-inputs', fail) : [],
    keyHandling: 'process',
    gate: { kind: 'none' },
    readsThread: fields['reads-thread']?.kind === 'scalar' && fields['reads-thread'].text === 'true' ? 'always' : 'never',
    defaults: { shell: shell as 'full' | 'restricted' | 'none', network: fields.network?.kind === 'scalar' && fields.network.text === 'true', writesFiles: shell !== 'none' },
  };
}

function readCommand(node: YNode, fail: Fail): AgentCli {
  const m = expectMap(node, 'an agent command', fail);
  const fields: Record<string, YNode> = {};
  for (const p of m.pairs) {
    if (!['command', 'name', 'bypass-flags', 'key-env', 'shell'].includes(p.key.text)) {
      fail(p.key, `unknown key '${p.key.text}' in agent command (expected command, name, bypass-flags, key-env, shell)`);
    }
    fields[p.key.text] = p.value;
  }
  if (!fields.command || fields.command.kind !== 'scalar') fail(node, "an agent command needs 'command'");
  const command = (fields.command as { text: string }).text;
  const shell = fields.shell?.kind === 'scalar' ? fields.shell.text : 'full';
  if (!SHELLS.includes(shell)) fail(fields.shell!, `shell must be one of ${SHELLS.join(', ')}`);
  return {
    id: `config:${command}`,
    name: fields.name?.kind === 'scalar' ? fields.name.text : command,
    commands: [command],
    bypassFlags: fields['bypass-flags'] ? strings(fields['bypass-flags'], 'bypass-flags', fail) : [],
    defaults: { shell: shell as 'full' | 'restricted' | 'none', network: shell === 'full', writesFiles: true },
    keyEnv: fields['key-env'] ? strings(fields['key-env'], 'key-env', fail) : [],
    instructionFiles: [],
  };
}
