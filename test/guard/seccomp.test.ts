import fs from 'node:fs';
import path from 'node:path';
import { compileSeccomp, parseSeccompRules, seccompArch } from '../../src/guard/seccomp';
import { GuardError } from '../../src/guard/errors';

const text = fs.readFileSync(path.join(__dirname, '..', '..', 'rules', 'seccomp.yml'), 'utf8');

/** Runs a compiled classic BPF seccomp program on one system call, as the kernel would. */
function evaluate(prog: Buffer, data: { nr: number; arch: number; arg0?: number }): number {
  const word = (k: number) => (k === 0 ? data.nr : k === 4 ? data.arch : k === 16 ? (data.arg0 ?? 0) : 0);
  let acc = 0;
  for (let pc = 0; pc < prog.length / 8; ) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = word(k) >>> 0;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x45) pc += (acc & k) !== 0 ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unknown opcode ${code}`);
    pc++;
  }
  throw new Error('fell off the end');
}

const X86_64 = 0xc000003e;
const AARCH64 = 0xc00000b7;
const ALLOW = 0x7fff0000;
const EPERM = 0x50001;
const ENOSYS = 0x50026;

describe('seccomp filter', () => {
  const rules = parseSeccompRules(text);

  it.each([
    ['x86_64', X86_64, { keyctl: 250, getpid: 39, clone: 56, unshare: 272, io_uring_setup: 425, read: 0 }],
    ['aarch64', AARCH64, { keyctl: 219, getpid: 172, clone: 220, unshare: 97, io_uring_setup: 425, read: 63 }],
  ] as const)('on %s: denies the data, allows the rest, and looks at clone and unshare flags', (arch, audit, nr) => {
    const prog = compileSeccomp(rules, arch);
    const run = (n: number, arg0 = 0, a: number = audit) => evaluate(prog, { nr: n, arch: a, arg0 });
    for (const entry of rules.deny) for (const n of entry.numbers[arch]) expect(run(n)).toBe(entry.errno === 38 ? ENOSYS : EPERM);
    expect(run(nr.keyctl)).toBe(EPERM);
    expect(run(nr.io_uring_setup)).toBe(ENOSYS);
    expect(run(nr.getpid)).toBe(ALLOW);
    expect(run(nr.read)).toBe(ALLOW);
    expect(run(nr.clone, 0x01200011)).toBe(ALLOW); // fork's flags
    expect(run(nr.clone, 0x10000000 | 0x11)).toBe(EPERM);
    expect(run(nr.unshare, 0x00020000)).toBe(ALLOW);
    expect(run(nr.unshare, 0x10020000)).toBe(EPERM);
    // Another architecture's calls (32-bit x86 on a 64-bit kernel) are refused whole.
    expect(run(nr.getpid, 0, 0x40000003)).toBe(EPERM);
    if (arch === 'x86_64') expect(run(0x40000000 | nr.getpid)).toBe(EPERM);
  });

  it('fails closed on an architecture the data does not cover, and on bad data', () => {
    expect(seccompArch('x64')).toBe('x86_64');
    expect(seccompArch('arm64')).toBe('aarch64');
    expect(seccompArch('riscv64')).toBeUndefined();
    expect(() => compileSeccomp(rules, undefined)).toThrow(GuardError);
    expect(() => parseSeccompRules('deny: []\n')).toThrow(/newUserNamespace/);
    expect(() => parseSeccompRules(text.replace('x86_64: [250, 248, 249]', 'x86_64: [250, 248]'))).toThrow(/one number per name/);
    expect(() => parseSeccompRules(text.replace('errno: ENOSYS', 'errno: EACCES'))).toThrow(/EPERM or ENOSYS/);
  });
});

describe('seccomp data against the kernel headers', () => {
  // linux-libc-dev's tables: x86_64's own, and the generic one aarch64 uses. A wrong number in the
  // data would leave the real call open while the filter denies another one.
  const headers = { x86_64: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h', aarch64: '/usr/include/asm-generic/unistd.h' } as const;
  const rules = parseSeccompRules(text);

  it.each(Object.entries(headers))('every %s number is the one its name has in %s', (arch, file) => {
    const table = new Map<string, number>();
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^#define __NR(?:3264)?_(\w+)\s+(\d+)\s*$/gm)) table.set(m[1], Number(m[2]));
    const a = arch as keyof typeof headers;
    const named = rules.deny.flatMap((d) => d.names.map((name, i) => ({ name, nr: d.numbers[a][i] })));
    named.push({ name: 'clone', nr: rules.newUserNamespace.calls[a].clone }, { name: 'unshare', nr: rules.newUserNamespace.calls[a].unshare });
    for (const { name, nr } of named) expect({ name, nr }).toEqual({ name, nr: table.get(name) });
  });
});
