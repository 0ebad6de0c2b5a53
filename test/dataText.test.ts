// The bundle carries the rules files the guard reads at every start as JSON (scripts/build.mjs): each
// loader must read the JSON form to exactly what it reads from the YAML in rules/.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseDataText, readDataText } from '../src/dataText';
import { parseFileKinds } from '../src/guard/boundary/fileKinds';
import { parseCredentialRules } from '../src/guard/credentialFiles';
import { parseGrantRules } from '../src/guard/grants/rules';
import { parseCatalogue } from '../src/guard/providers/catalogue';
import { parseRuleSet } from '../src/analysis/rulesData';
import { parseSeccompRules } from '../src/guard/seccomp';

const rules = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'rules', name), 'utf8');
const asJson = (yamlText: string) => JSON.stringify(parse(yamlText));
/** Functions (matchers) compare by their source; regular expressions by source and flags. */
const comparable = (value: unknown) => JSON.parse(JSON.stringify(value, (_k, v) => (v instanceof RegExp ? `/${v.source}/${v.flags}` : typeof v === 'function' ? String(v) : v instanceof Map || v instanceof Set ? [...v] : v)));

describe('rules data as JSON', () => {
  it.each([
    ['providers.yml', parseCatalogue],
    ['grants.yml', parseGrantRules],
    ['credential-files.yml', parseCredentialRules],
    ['file-kinds.yml', parseFileKinds],
    ['seccomp.yml', parseSeccompRules],
  ] as [string, (text: string) => unknown][])('%s reads the same from its JSON form', (name, load) => {
    const text = rules(name);
    expect(asJson(text).startsWith('{')).toBe(true);
    expect(comparable(load(asJson(text)))).toEqual(comparable(load(text)));
  });

  it('reads JSON with the JSON parser and anything else as YAML, with the line of a YAML mistake', () => {
    expect(parseDataText('{"a": [1, "x"]}')).toEqual({ a: [1, 'x'] });
    expect(parseDataText('{a: 1}')).toEqual({ a: 1 });
    expect(readDataText('a: 1\nb: [\n')).toMatchObject({ line: expect.any(Number), error: expect.any(String) });
    expect(readDataText('a: 1\na: 2\n')).toMatchObject({ line: 2, error: expect.stringMatching(/unique/i) });
  });
});

describe('lint rules data as JSON', () => {
  it('agents, sources and triggers read the same from their JSON form', () => {
    const texts = { agents: rules('agents.yml'), sources: rules('sources.yml'), triggers: rules('triggers.yml') };
    const json = { agents: asJson(texts.agents), sources: asJson(texts.sources), triggers: asJson(texts.triggers) };
    expect(comparable(parseRuleSet(json))).toEqual(comparable(parseRuleSet(texts)));
  });
});
