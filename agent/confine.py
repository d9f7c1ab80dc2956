"""The per-node supervisor: `python -m agent.confine -- <argv>`, with its policy (a marshalled dict) on stdin.

It stays outside the candidate's rules, starts the candidate confined, relays its output into the
log with a cap, and when the candidate ends (or the agent sends SIGTERM) ends every process the
candidate started, however it detached. Where unprivileged user namespaces exist the candidate is
process 1 of its own PID namespace, so the kernel itself ends the whole tree when it exits, and it
sees a /proc of its own; elsewhere the supervisor is a child subreaper and sweeps its orphans.

Only builtin modules and agent.landlock are imported, and the agent starts it without `site`:
this runs once per node, and its start-up is the sandbox's cost.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import resource
import select
import signal
import stat
import sys

from agent import landlock

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_CAPBSET_DROP = 1, 36, 24
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 12, 1 << 14, 1 << 18
# Where the system keeps its unix sockets (Docker's, D-Bus's, tmux's, an ssh agent's): Landlock does not
# mediate connecting to a socket file, so these are replaced by empty folders, the granted paths inside
# them bound back in.
HIDDEN = ("/tmp", "/var/tmp", "/run")
SANDBOX_FAILED = 126  # the candidate never started: the rules could not be applied

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def enter_namespaces() -> bool:
    """A user and a PID namespace of our own (our next child is its process 1); False where the kernel
    or its policy refuses them."""
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0:
        return False
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return True


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _own_mounts(shm_mb: int, granted: list[str]) -> list[str]:
    """A mount namespace of the candidate's own, with a /proc that shows only its PID namespace, a
    private /dev/shm, and the HIDDEN folders emptied but for the `granted` paths. Returns what could
    not be done (the candidate then sees the host's)."""
    gaps = []
    try:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as exc:
        gaps.append(f"own /proc ({exc})")
        return gaps
    for folder in HIDDEN:
        try:
            _hide(folder, granted, shm_mb)
        except OSError as exc:
            gaps.append(f"hiding the sockets in {folder} ({exc})")
    try:
        if os.path.isdir("/dev/shm"):
            _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={shm_mb}m,mode=1777")
    except OSError as exc:
        gaps.append(f"private /dev/shm ({exc})")
    return gaps


def _hide(folder: str, granted: list[str], size_mb: int) -> None:
    """An empty tmpfs over `folder`, with the granted paths below it bound back in at their places."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        return
    inside = sorted({os.path.realpath(p) for p in granted if os.path.exists(p)})
    inside = [p for p in inside if p.startswith(folder + "/") or p == folder]
    if folder in inside:
        return
    keep = [p for p in inside if not any(p.startswith(q + "/") for q in inside)]  # outermost only
    handles = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC)) for p in keep]
    _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=1777")
    for path, fd in handles:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY))
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)


def _drop_capabilities() -> None:
    """No capability survives into the candidate, whether we are root or root of a user namespace."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")


def _set_limits(limits: dict, pid_namespace: bool) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("address_space_mb"):
        cap = limits["address_space_mb"] * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    if limits.get("file_mb"):
        cap = limits["file_mb"] * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    processes = limits.get("processes")
    if processes:
        if pid_namespace:  # Linux 6.14+: pid_max belongs to the namespace, and binds root too
            try:
                _write("/proc/sys/kernel/pid_max", str(max(301, processes)))
            except OSError:
                pass
        else:  # counts every process of this user, so leave room for those already running
            mine = sum(1 for p in os.listdir("/proc") if p.isdigit() and _owner(f"/proc/{p}") == os.getuid())
            resource.setrlimit(resource.RLIMIT_NPROC, (mine + processes, mine + processes))


def _owner(path: str) -> int:
    try:
        return os.stat(path).st_uid
    except OSError:
        return -1


def _worker(policy: dict, argv: list[str], out_fd: int, pid_namespace: bool) -> None:
    """The candidate's side of the fork: rules first, then exec. Never returns."""
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        rules = policy["rules"]
        granted = rules["read"] + rules["write"] + rules["devices"]
        gaps = _own_mounts(policy.get("shm_mb", 256), granted) if pid_namespace else []
        _set_limits(policy.get("limits", {}), pid_namespace)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        os.close(null)
        for gap in gaps:
            os.write(2, f"sandbox: not enforced for this node: {gap}\n".encode())
        _drop_capabilities()
        landlock.restrict(landlock.Rules(read=rules["read"], write=rules["write"], devices=rules["devices"]))
        if landlock.seccomp_available():
            landlock.restrict_sockets()
        os.execv(argv[0], argv)
    except BaseException as exc:  # noqa: BLE001 - anything here means the candidate must not run
        os.write(2, f"sandbox: could not confine the candidate: {exc!r}\n".encode())
    os._exit(SANDBOX_FAILED)


class CappedLog:
    """The first `head` bytes as they come, then only the last `tail` bytes, with a line saying how much was left out."""

    def __init__(self, fd: int, head: int, tail: int) -> None:
        self.fd, self.head, self.tail = fd, head, tail
        self.written = 0
        self.kept = bytearray()
        self.dropped = 0

    def write(self, chunk: bytes) -> None:
        room = self.head - self.written
        if room > 0:
            os.write(self.fd, chunk[:room])
            self.written += min(room, len(chunk))
            chunk = chunk[room:]
        if chunk:
            self.kept += chunk
            if len(self.kept) > self.tail:
                self.dropped += len(self.kept) - self.tail
                del self.kept[: len(self.kept) - self.tail]

    def close(self) -> None:
        if self.dropped:
            os.write(self.fd, f"\n[sandbox: {self.dropped} bytes of output left out]\n".encode())
        if self.kept:
            os.write(self.fd, bytes(self.kept))


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(pid))
    return found


def _reap(worker: int) -> int | None:
    """Collect every finished child (orphans come to us); the worker's wait status when it is among them."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == worker:
            status = code


def sweep() -> None:
    """Kill every process left below us until none is; a killed one's children are reparented to us."""
    while kids := _children():
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap(-1)


def supervise(policy: dict, argv: list[str]) -> int:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")
    pid_namespace = policy.get("namespaces", True) and enter_namespaces()
    read_end, write_end = os.pipe()
    worker = os.fork()
    if worker == 0:
        os.close(read_end)
        _worker(policy, argv, write_end, pid_namespace)
    os.close(write_end)
    log = CappedLog(1, policy.get("log_head_bytes", 4 << 20), policy.get("log_tail_bytes", 1 << 20))
    status = None
    open_pipe = True
    while open_pipe or status is None:
        if stop and status is None:
            os.kill(worker, signal.SIGKILL)
        ready, _, _ = select.select([read_end] if open_pipe else [], [], [], 0.2 if open_pipe else 0.005)
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if chunk:
                log.write(chunk)
            else:
                open_pipe = False
        status = status if status is not None else _reap(worker)
        if status is not None and not pid_namespace:
            sweep()  # nothing the candidate started outlives it (in a PID namespace, the kernel ended it with process 1)
    log.close()
    if stop:
        return 128 + signal.SIGTERM
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    return supervise(marshal.loads(sys.stdin.buffer.read()), argv)


if __name__ == "__main__":
    sys.exit(main())
