// A hijacked agent for e2e.edges.test.ts: it attacks the guard's edges from inside the jail.
//   * prints workflow commands in encodings the runner could decode (UTF-16/32 with a byte-order
//     mark first on each stream, NUL-interleaved, a BOM in the middle);
//   * sends requests whose routes and queries are Markdown images, HTML, table breaks and commands,
//     so the audit, the step summary and the guard's log carry agent-chosen text;
//   * tries to unlink, overwrite and replace the audit file, and to overwrite credential files;
//   * reads every credential file other steps left, the guard's config and its mount table.
// It prints one `EDGES {json}` line on stdout (UTF-8, after the encoded attacks) for the test.
'use strict';
const fs = require('node:fs');
const http = require('node:http');

const targets = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const report = { reads: {}, writes: {}, requests: [] };
const commands = '::add-mask::hunter2\n::warning::from the agent\n##[error]legacy\n::set-output name=x::1\n';

function utf16le(text) {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}
function utf32le(text) {
  const cps = [0xfeff, ...[...text].map((c) => c.codePointAt(0))];
  const out = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => out.writeUInt32LE(cp, i * 4));
  return out;
}

function tryRead(file) {
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) return `dir:${fs.readdirSync(file).join(',')}`;
    return `file:${fs.readFileSync(file, 'utf8')}`;
  } catch (err) {
    return `error:${err.code}`;
  }
}

function tryWrite(label, action) {
  try {
    action();
    report.writes[label] = 'done';
  } catch (err) {
    report.writes[label] = `error:${err.code}`;
  }
}

function request(path) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: targets.proxyPort, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (err) => resolve(`error:${err.code}`));
    req.end(JSON.stringify({ model: targets.model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] }));
  });
}

(async () => {
  // Encoded commands first: the byte-order mark is then the first thing on each stream.
  fs.writeSync(1, utf16le(commands));
  fs.writeSync(2, utf32le(commands));
  fs.writeSync(1, Buffer.from('\n'));
  fs.writeSync(1, Buffer.from([...Buffer.from('::add-mask::nul-interleaved\n')].flatMap((b) => [b, 0])));
  fs.writeSync(1, Buffer.concat([Buffer.from('\nmiddle '), utf16le(commands), Buffer.from('\n')]));

  for (const route of targets.routes) report.requests.push(await request(route));

  for (const file of targets.credentials) report.reads[file] = tryRead(file);
  for (const file of targets.credentials) tryWrite(`overwrite ${file}`, () => fs.writeFileSync(file, 'agent-was-here'));
  report.reads.config = tryRead('/run/agent-guard/config.json');
  report.mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');

  tryWrite('unlink audit', () => fs.unlinkSync(targets.audit));
  tryWrite('forge audit', () => fs.writeFileSync(targets.audit, '{"route":"forged"}\n'));
  tryWrite('append audit', () => fs.appendFileSync(targets.audit, '{"route":"appended"}\n'));
  tryWrite('summary', () => fs.appendFileSync(targets.summary, '![x](https://evil.example/?q=summary)\n'));

  process.stdout.write(`\nEDGES ${JSON.stringify(report)}\n`);
})();
