"""The kernel's rules for a candidate process: Landlock (files, TCP, signals, abstract sockets) and a
seccomp filter (every other socket family, io_uring), through raw syscalls so nothing needs root or
a compiled package.

Both are one-way: once a process restricts itself, neither it nor anything it starts can lift the
rules. Linux x86_64 and aarch64 only; elsewhere `abi_version()` is 0 and nothing is enforced.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import struct

_SYSCALLS = {  # landlock_create_ruleset, landlock_add_rule, landlock_restrict_self, seccomp
    "x86_64": (444, 445, 446, 317),
    "aarch64": (444, 445, 446, 277),
}
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_SOCKET_NR = {"x86_64": 41, "aarch64": 198}
_IO_URING_NR = {"x86_64": (425, 426, 427), "aarch64": (425, 426, 427)}  # setup, enter, register
_ARCH = os.uname().machine

PR_SET_NO_NEW_PRIVS = 38
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2

# File rights, in the order the ABIs added them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file (not a folder) may hold

READ = READ_FILE | READ_DIR | EXECUTE
WRITE = READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SYM | MAKE_SOCK | MAKE_FIFO | TRUNCATE
DEVICE = READ_FILE | WRITE_FILE | IOCTL_DEV

NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(index: int, *args) -> int:
    if _ARCH not in _SYSCALLS:
        raise OSError(errno.ENOSYS, "no Landlock or seccomp on this architecture")
    result = _libc.syscall(ctypes.c_long(_SYSCALLS[_ARCH][index]), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def abi_version() -> int:
    """The Landlock ABI this kernel offers to unprivileged processes (0: none)."""
    try:
        return _syscall(0, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except OSError:
        return 0


class Rules:
    """What a confined process may still do; everything else the kernel refuses.

    `read` and `write` are folders (with everything below) or single files; `devices` are device
    files to open for reading, writing and ioctls (/dev/null, a GPU). No TCP port is allowed at all.
    """

    def __init__(self, read: list[str] = (), write: list[str] = (), devices: list[str] = ()) -> None:
        self.read, self.write, self.devices = [*read], [*write], [*devices]


def not_enforced(abi: int) -> list[str]:
    """What the kernel's Landlock ABI leaves open, in words a person reads once."""
    gaps = []
    if abi < 1:
        return ["file access (no Landlock in this kernel)", "TCP (no Landlock)", "signals to the agent (no Landlock)"]
    if abi < 3:
        gaps.append("truncating readable files (Landlock ABI < 3)")
    if abi < 4:
        gaps.append("TCP connect and bind (Landlock ABI < 4)")
    if abi < 6:
        gaps.append("signals to the agent and abstract unix sockets (Landlock ABI < 6)")
    return gaps


def restrict(rules: Rules, abi: int | None = None) -> list[str]:
    """Confine the calling process (and all it will start) to `rules`; returns the paths that did not exist.

    Rights the kernel does not know are left out, so an older kernel enforces what it can.
    """
    abi = abi_version() if abi is None else abi
    if abi < 1:
        return []
    handled_fs = FS_BY_ABI[max(a for a in FS_BY_ABI if a <= abi)]
    attr = _RulesetAttr(handled_fs, (NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0,
                        (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _syscall(0, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    missing = []
    try:
        grants = [(p, READ) for p in rules.read] + [(p, WRITE) for p in rules.write] + [(p, DEVICE) for p in rules.devices]
        for path, access in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                missing.append(path)
                continue
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    access &= FILE_ONLY
                if not access:
                    continue
                beneath = _PathBeneathAttr(access & handled_fs, fd)
                _syscall(1, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(beneath),
                         ctypes.c_uint32(0))
            finally:
                os.close(fd)
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        _syscall(2, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return missing


# --- seccomp: the sockets and rings Landlock does not see ----------------------------------------------

_SECCOMP_SET_MODE_FILTER = 1
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
AF_UNIX = 1


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def filter_program() -> bytes:
    """A classic-BPF seccomp program: socket() of any family but AF_UNIX fails with EACCES (UDP, raw,
    netlink, packet; TCP too, which Landlock also refuses), io_uring fails with ENOSYS (its socket
    operations would bypass this filter), and a foreign syscall ABI (x32, 32-bit) is refused outright."""
    socket_nr, rings = _SOCKET_NR[_ARCH], _IO_URING_NR[_ARCH]
    deny_socket = _RET_ERRNO | errno.EACCES
    deny_ring = _RET_ERRNO | errno.ENOSYS
    prog = [
        _insn(_LD_W_ABS, 0, 0, 4),                       # seccomp_data.arch
        _insn(_JEQ_K, 1, 0, _AUDIT_ARCH[_ARCH]),
        _insn(_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS),  # another ABI: refuse
        _insn(_LD_W_ABS, 0, 0, 0),                       # seccomp_data.nr
        _insn(_JGE_K, 0, 1, 0x40000000),                 # x32 syscalls carry this bit
        _insn(_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS),
    ]
    for nr in rings:
        prog += [_insn(_JEQ_K, 0, 1, nr), _insn(_RET_K, 0, 0, deny_ring)]
    prog += [
        _insn(_JEQ_K, 0, 3, socket_nr),
        _insn(_LD_W_ABS, 0, 0, 16),                      # args[0] (low 32 bits): the family
        _insn(_JEQ_K, 1, 0, AF_UNIX),
        _insn(_RET_K, 0, 0, deny_socket),
        _insn(_RET_K, 0, 0, _RET_ALLOW),
    ]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def restrict_sockets() -> None:
    """Install `filter_program()` on the calling process; needs no_new_privs (set by `restrict`, or here)."""
    program = filter_program()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    _syscall(3, ctypes.c_uint(_SECCOMP_SET_MODE_FILTER), ctypes.c_uint(0), ctypes.byref(fprog))


def seccomp_available() -> bool:
    return _ARCH in _SYSCALLS and os.path.exists("/proc/sys/kernel/seccomp/actions_avail")
