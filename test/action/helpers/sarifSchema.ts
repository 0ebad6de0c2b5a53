// The SARIF 2.1.0 schema shipped in test/schemas (see its README for where it comes from and why it
// is declared draft-07 in memory), compiled with Ajv, for checking the SARIF the Action writes.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';

const SCHEMA_FILE = path.join(__dirname, '..', '..', 'schemas', 'sarif-2.1.0.json');

export function sarifValidator(): (log: unknown) => string[] {
  const { id, $schema: dialect, ...rest } = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  if (dialect !== 'http://json-schema.org/draft-04/schema#') throw new Error(`unexpected schema dialect ${String(dialect)}`);
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile({ $schema: 'http://json-schema.org/draft-07/schema#', $id: id as string, ...rest });
  return (log) => (validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}
