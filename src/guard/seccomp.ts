// The jail's seccomp filter: rules/seccomp.yml compiled into classic BPF, which bwrap installs
// (`--seccomp FD`) before it starts the jail's init, so the init and the agent run under it. An
// architecture the data does not cover fails closed.
import seccompText from '../../rules/seccomp.yml';
import { isMapping, parseDataText } from '../dataText';
import { GuardError } from './errors';

type Arch = 'x86_64' | 'aarch64';

/** AUDIT_ARCH_* values the kernel puts in seccomp_data.arch. */
const AUDIT_ARCH: Record<Arch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
/** On x86_64, system call numbers with this bit are the x32 ABI: another table, refused whole. */
const X32_BIT = 0x40000000;
const ERRNO: Record<string, number> = { EPERM: 1, ENOSYS: 38 };

// Classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
// Offsets in struct seccomp_data: nr, arch, then six 64-bit arguments (the low half of the first at 16).
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;

export interface SeccompRules {
  deny: { names: string[]; errno: number; numbers: Record<Arch, number[]> }[];
  newUserNamespace: { flag: number; calls: Record<Arch, { clone: number; unshare: number }> };
}

function fail(message: string): never {
  throw new GuardError('jail', `rules/seccomp.yml: ${message}`);
}

const numbers = (v: unknown, what: string): number[] =>
  Array.isArray(v) && v.every((n) => Number.isInteger(n) && n >= 0 && n < 1024) ? (v as number[]) : fail(`${what} must be a list of system call numbers`);

export function parseSeccompRules(text: string): SeccompRules {
  const data = parseDataText(text);
  if (!isMapping(data) || !Array.isArray(data.deny) || !isMapping(data.newUserNamespace)) fail('expected deny and newUserNamespace');
  const deny = data.deny.map((entry: unknown, i) => {
    if (!isMapping(entry) || !Array.isArray(entry.names) || !entry.names.every((n) => typeof n === 'string')) return fail(`deny[${i}] needs names`);
    const errno = ERRNO[(entry.errno as string | undefined) ?? 'EPERM'] ?? fail(`deny[${i}].errno must be EPERM or ENOSYS`);
    const byArch = { x86_64: numbers(entry.x86_64, `deny[${i}].x86_64`), aarch64: numbers(entry.aarch64, `deny[${i}].aarch64`) };
    for (const arch of ['x86_64', 'aarch64'] as Arch[]) if (byArch[arch].length !== entry.names.length) fail(`deny[${i}].${arch} must give one number per name`);
    return { names: entry.names as string[], errno, numbers: byArch };
  });
  const userns = data.newUserNamespace;
  if (typeof userns.flag !== 'number') fail('newUserNamespace.flag must be a number');
  const calls = {} as Record<Arch, { clone: number; unshare: number }>;
  for (const arch of ['x86_64', 'aarch64'] as Arch[]) {
    const c = userns[arch];
    if (!isMapping(c) || !Number.isInteger(c.clone) || !Number.isInteger(c.unshare)) fail(`newUserNamespace.${arch} needs clone and unshare`);
    calls[arch] = { clone: c.clone as number, unshare: c.unshare as number };
  }
  return { deny, newUserNamespace: { flag: userns.flag, calls } };
}

/** The architecture the agent's processes run on, named as the data names it; undefined when not covered. */
export function seccompArch(nodeArch: string = process.arch): Arch | undefined {
  return nodeArch === 'x64' ? 'x86_64' : nodeArch === 'arm64' ? 'aarch64' : undefined;
}

interface Insn {
  code: number;
  k: number;
  /** Jump targets as labels, resolved to offsets when the program is laid out. */
  jt?: string;
  jf?: string;
  label?: string;
}

/** The filter as bwrap reads it: struct sock_filter entries, 8 bytes each, in host byte order. */
export function compileSeccomp(rules: SeccompRules, arch: Arch | undefined): Buffer {
  if (!arch) throw new GuardError('jail', `no seccomp filter for this architecture (${process.arch}); rules/seccomp.yml covers x86_64 and aarch64`);
  const prog: Insn[] = [];
  const jump = (k: number, jt: string, jf = 'next') => prog.push({ code: JEQ_K, k, jt, jf });
  prog.push({ code: LD_W_ABS, k: ARCH });
  jump(AUDIT_ARCH[arch], 'next', 'eperm');
  prog.push({ code: LD_W_ABS, k: NR });
  if (arch === 'x86_64') prog.push({ code: JSET_K, k: X32_BIT, jt: 'eperm', jf: 'next' });
  for (const entry of rules.deny) for (const nr of entry.numbers[arch]) jump(nr, entry.errno === ERRNO.ENOSYS ? 'enosys' : 'eperm');
  const { clone, unshare } = rules.newUserNamespace.calls[arch];
  jump(clone, 'flags');
  jump(unshare, 'flags');
  prog.push({ code: RET_K, k: RET_ALLOW });
  prog.push({ code: LD_W_ABS, k: ARG0_LOW, label: 'flags' });
  prog.push({ code: JSET_K, k: rules.newUserNamespace.flag, jt: 'eperm', jf: 'next' });
  prog.push({ code: RET_K, k: RET_ALLOW });
  prog.push({ code: RET_K, k: RET_ERRNO | ERRNO.EPERM, label: 'eperm' });
  prog.push({ code: RET_K, k: RET_ERRNO | ERRNO.ENOSYS, label: 'enosys' });

  const at = new Map(prog.flatMap((insn, i) => (insn.label ? [[insn.label, i] as const] : [])));
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined || label === 'next') return 0;
    const to = at.get(label);
    if (to === undefined || to <= from || to - from - 1 > 255) throw new Error(`seccomp: cannot jump from ${from} to ${label}`);
    return to - from - 1;
  };
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(offset(i, insn.jt), i * 8 + 2);
    out.writeUInt8(offset(i, insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

let cached: SeccompRules | undefined;
export function seccompRules(): SeccompRules {
  cached ??= parseSeccompRules(seccompText);
  return cached;
}
