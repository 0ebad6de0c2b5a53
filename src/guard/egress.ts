// --allow-host: a CONNECT-only forward proxy for named hosts (package registries, say), bridged
// into the jail like the provider proxy. The host name must be on the list exactly; the guard
// resolves it itself, refuses loopback, private, link-local, metadata and other special ranges, and
// connects to the address it checked (no second lookup an attacker's DNS could answer differently).
import dns from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import type { AuditLog } from './audit';
import type { AllowedHost } from './options';

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  // Cloud metadata and the Azure wireserver (DNS, agent channel) on GitHub-hosted runners.
  ['168.63.129.16', 32], ['100.100.100.200', 32],
];

function v4ToInt(addr: string): number {
  return addr.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4Range(addr: string, [base, bits]: [string, number]): boolean {
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  return (v4ToInt(addr) & mask) >>> 0 === (v4ToInt(base) & mask) >>> 0;
}

function expandV6(addr: string): number[] | undefined {
  let text = addr.toLowerCase().split('%')[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(fill).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** Why an address must not be reached from the jail, or undefined when it is a public address. */
export function blockedAddressReason(addr: string): string | undefined {
  if (net.isIPv4(addr)) {
    return BLOCKED_V4.some((r) => inV4Range(addr, r)) ? `${addr} is a loopback, private, link-local, metadata or reserved address` : undefined;
  }
  if (!net.isIPv6(addr)) return `${addr} is not an IP address`;
  const g = expandV6(addr);
  if (!g) return `${addr} is not an IP address`;
  const embeddedV4 = `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  // IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms carry an IPv4 address: judge that instead.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    if (g[5] === 0 && g[6] === 0 && g[7] <= 1) return `${addr} is unspecified or loopback`;
    return blockedAddressReason(embeddedV4);
  }
  if (g[0] === 0x64 && g[1] === 0xff9b) return blockedAddressReason(embeddedV4);
  if (g[0] === 0x2002) return blockedAddressReason(`${g[1] >> 8}.${g[1] & 255}.${g[2] >> 8}.${g[2] & 255}`);
  if ((g[0] & 0xfe00) === 0xfc00) return `${addr} is a unique-local address`;
  if ((g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0) return `${addr} is a link-local address`;
  if ((g[0] & 0xff00) === 0xff00) return `${addr} is multicast`;
  if (g[0] === 0x2001 && g[1] === 0x0db8) return `${addr} is a documentation address`;
  if (g[0] === 0xfd00 && g[1] === 0x0ec2) return `${addr} is a metadata address`;
  return undefined;
}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface EgressProxyOptions {
  allowHosts: AllowedHost[];
  audit: AuditLog;
  resolve?: Resolver;
  /** Address policy; only tests replace it (to tunnel to a loopback double). */
  blockedReason?: (addr: string) => string | undefined;
  connectTimeoutMs?: number;
}

const AUTHORITY = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function createEgressProxy(opts: EgressProxyOptions): http.Server {
  const resolve = opts.resolve ?? systemResolver;
  const blocked = opts.blockedReason ?? blockedAddressReason;
  const server = http.createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 30_000 }, (req, res) => {
    opts.audit.add({
      time: new Date().toISOString(), kind: 'egress', method: String(req.method).slice(0, 16), route: String(req.url).replace(/[^\x20-\x7e]/g, '?').slice(0, 200),
      status: 405, requestBytes: 0, responseBytes: 0, ms: 0, refused: 'only CONNECT is allowed',
    });
    res.writeHead(405, { 'content-type': 'text/plain', connection: 'close' });
    res.end('agent-guard: the egress proxy only tunnels CONNECT to allowed hosts\n');
  });

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const started = Date.now();
    const target = String(req.url ?? '');
    const record = {
      time: new Date(started).toISOString(), kind: 'egress' as const, method: 'CONNECT', route: target.replace(/[^\x20-\x7e]/g, '?').slice(0, 200),
      status: 0, requestBytes: 0, responseBytes: 0, ms: 0,
    };
    let audited = false;
    const deny = (status: number, reason: string) => {
      if (audited) return;
      audited = true;
      opts.audit.add({ ...record, status, ms: Date.now() - started, refused: reason });
      client.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nagent-guard refused: ${reason}\n`);
    };
    const m = AUTHORITY.exec(target);
    if (!m) return deny(400, 'CONNECT target is not host:port');
    const host = m[1].toLowerCase().replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    if (!opts.allowHosts.some((a) => a.host === host && a.port === port)) return deny(403, `${host}:${port} is not an allowed host`);
    resolve(host)
      .then((addresses) => {
        if (addresses.length === 0) return deny(502, `${host} does not resolve`);
        for (const addr of addresses) {
          const why = blocked(addr);
          if (why) return deny(403, `${host} resolves to ${why}`);
        }
        const upstream = net.connect({ host: addresses[0], port, timeout: opts.connectTimeoutMs ?? 15_000 });
        let connected = false;
        upstream.once('connect', () => {
          connected = true;
          upstream.setTimeout(0);
          upstream.setNoDelay(true);
          client.setNoDelay(true);
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length) upstream.write(head);
          upstream.on('data', (d: Buffer) => (record.responseBytes += d.length));
          client.on('data', (d: Buffer) => (record.requestBytes += d.length));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        const close = () => {
          if (!audited && connected) {
            audited = true;
            opts.audit.add({ ...record, status: 200, ms: Date.now() - started });
          }
          upstream.destroy();
          client.destroy();
        };
        upstream.once('timeout', () => {
          deny(504, `${host}:${port} did not answer`);
          upstream.destroy();
        });
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          if (!connected) deny(502, `${host}:${port} unreachable (${err.code ?? 'error'})`);
          else close();
        });
        upstream.on('close', () => (connected ? close() : client.destroy()));
        client.on('error', close);
        client.on('close', close);
      })
      .catch(() => deny(502, `${host} does not resolve`));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
