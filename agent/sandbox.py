"""Run untrusted candidate code in a child process with a wall-time limit, a memory limit, a cap on
the size of its folder, an environment stripped of credentials, and (with a `Confinement`) the
kernel's rules: it reads only the Python environment, system libraries and what the node is given,
writes only its folder and a private temp folder, opens no network socket, cannot signal, trace or
read the agent, and everything it starts ends with it (see agent.confine and agent.landlock).

A candidate that crashes, hangs, exhausts memory or disk, or attacks comes back as a
`SandboxResult` saying so; nothing it does can take the run down with it.
"""

from __future__ import annotations

import ctypes
import glob
import marshal
import os
import re
import resource
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import psutil

from agent import landlock
from agent.confine import SANDBOX_FAILED

SECRET_NAME = re.compile(r"(^KAGGLE_|_API_KEY$|_TOKEN$|SECRET|PASSWORD|CREDENTIAL|^AWS_|_KEY$|^AGENT_LLM_)", re.I)
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1
DISK_POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0  # for the supervisor to end the candidate's processes before it is killed itself
SYSTEM_READ = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/proc", "/sys", "/etc/ld.so.cache", "/etc/ld.so.conf",
               "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
               "/etc/os-release", "/etc/mime.types", "/etc/fonts"]
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/nvidia*", "/dev/dri/*"]
# Without `site` (its .pth files cost more than the rest of the supervisor's start), from where this agent is.
SUPERVISOR = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r}); "
              "from agent.confine import main; sys.exit(main())")
TEMP_PREFIX = "agent-node-"
PATH_VARIABLES = ("AGENT_TEXT_MODEL", "AGENT_IMAGE_BACKBONE")  # model files a candidate is pointed at


@dataclass
class Confinement:
    """What one candidate may touch besides the Python environment and the system's libraries.

    `read`: folders and files it may read (the run's prepared data, an ensemble's member nodes);
    `write`: folders it may change (its node folder first, whose size, with its temp folder's, is
    capped at `disk_mb`); `processes`: how many processes and threads it may run at once.
    """

    read: list[Path] = field(default_factory=list)
    write: list[Path] = field(default_factory=list)
    disk_mb: int = 4096
    processes: int = 1024
    log_head_bytes: int = 4 << 20
    log_tail_bytes: int = 1 << 20
    namespaces: bool = True  # off: what a kernel without unprivileged user namespaces gives (for tests)


@dataclass
class SandboxResult:
    returncode: int | None
    timed_out: bool
    out_of_memory: bool
    wall_seconds: float
    peak_rss_mb: float
    disk_full: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.out_of_memory and not self.disk_full

    @property
    def sandbox_failed(self) -> bool:
        return self.returncode == SANDBOX_FAILED

    @property
    def file_too_large(self) -> bool:
        return self.returncode in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ)


def clean_env(base: dict[str, str] | None = None, n_jobs: int = 1, home: Path | None = None) -> dict[str, str]:
    """The parent's environment minus anything that looks like a credential.

    Thread counts are pinned to the candidate's share of cores, and KAGGLE_CONFIG_DIR points at
    an empty folder so the kaggle client cannot find ~/.kaggle/kaggle.json either.
    """
    env = {k: v for k, v in (base if base is not None else os.environ).items() if not SECRET_NAME.search(k)}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
        env[var] = str(n_jobs)
    # Idle OpenMP threads sleep instead of spinning: with more threads than free cores (parallel
    # workers, a busy machine) spinning makes LightGBM several times slower.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONHASHSEED"] = "0"
    if home is not None:
        empty = home / ".no-credentials"
        empty.mkdir(parents=True, exist_ok=True)
        env["KAGGLE_CONFIG_DIR"] = str(empty)
    return env


try:  # loaded here, not in the forked child, where loading a library could deadlock on a lock another thread held
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _child_setup(memory_mb: int, limit_address_space: bool) -> None:
    """Runs in the child before exec: own process group, dies with the parent, no core dumps, an address-space cap."""
    os.setsid()
    if _LIBC is not None:  # Linux: a parent killed with SIGKILL takes the candidate with it instead of leaving an orphan
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limit_address_space:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def tree_rss_mb(proc: psutil.Process) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_sandboxed(
    argv: list[str],
    cwd: Path,
    log_path: Path,
    timeout: float,
    memory_mb: int,
    n_jobs: int = 1,
    limit_address_space: bool = True,
    env: dict[str, str] | None = None,
    confinement: Confinement | None = None,
) -> SandboxResult:
    """Run `argv` in `cwd`, output to `log_path`; end the whole process tree at a limit.

    Memory is capped twice: RLIMIT_AS makes big allocations fail at once (off on GPUs, where
    drivers reserve huge address ranges), and the resident size of the process tree is
    watched, so memory used by grandchildren counts too. With a `confinement`, `argv` runs under
    agent.confine's supervisor, which applies the kernel's rules and caps the log; the size of
    the node's folders is watched here.
    """
    start = time.monotonic()
    # The address-space cap leaves headroom over the resident limit: threads and shared
    # libraries reserve address space they never touch.
    cap_mb = int(memory_mb * 1.5) + 2048
    env = dict(env if env is not None else clean_env(n_jobs=n_jobs, home=cwd))
    temp = node_temp() if confinement else None
    policy = b""
    if confinement:
        env.update(private_home(temp))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(import_folder(temp)), env.get("PYTHONPATH")]))
        policy = marshal.dumps(confinement_policy(confinement, temp))
        argv = [sys.executable, "-S", "-c", SUPERVISOR, "--", *argv]
    try:
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE if confinement else subprocess.DEVNULL,
                env=env,
                preexec_fn=lambda: _child_setup(cap_mb, limit_address_space),
            )
            if confinement:
                proc.stdin.write(policy)
                proc.stdin.close()
            limits = Limits(start, timeout, memory_mb, [cwd, temp] if confinement else [],
                            confinement.disk_mb if confinement else 0)
            returncode = limits.hold(proc, graceful=confinement is not None)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    out_of_memory = limits.out_of_memory or (returncode != 0 and _mentions_memory_error(log_path))
    return SandboxResult(returncode, limits.timed_out, out_of_memory, time.monotonic() - start, limits.peak,
                         limits.disk_full)


class Limits:
    """Time, resident memory and folder size, checked every POLL_SECONDS while a candidate runs."""

    def __init__(self, start: float, timeout: float, memory_mb: int, folders: list[Path], disk_mb: int) -> None:
        self.start, self.timeout, self.memory_mb = start, timeout, memory_mb
        self.folders, self.disk_mb = folders, disk_mb
        self.peak = 0.0
        self.timed_out = self.out_of_memory = self.disk_full = False

    def hold(self, proc: subprocess.Popen, graceful: bool) -> int:
        """Wait for `proc`, ending it at the first limit it passes; its exit code, and nothing of it left running."""
        watched = psutil.Process(proc.pid)
        next_disk_check = self.start
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                returncode = os.waitstatus_to_exitcode(status)
                self.peak = max(self.peak, usage.ru_maxrss / 1024)
                break
            self.peak = max(self.peak, tree_rss_mb(watched))
            if self.folders and time.monotonic() >= next_disk_check:
                self.disk_full = self._over_disk()
                next_disk_check = time.monotonic() + DISK_POLL_SECONDS
            if self.peak > self.memory_mb:
                self.out_of_memory = True
            elif time.monotonic() - self.start > self.timeout:
                self.timed_out = True
            if self.timed_out or self.out_of_memory or self.disk_full:
                returncode = _stop(proc, graceful)
                break
            time.sleep(POLL_SECONDS)
        _kill_group(proc.pid)  # grandchildren left behind by a finished candidate
        proc.returncode = returncode
        self.disk_full = self.disk_full or self._over_disk()  # a fast writer can fill the folder between two looks
        return returncode

    def _over_disk(self) -> bool:
        return bool(self.folders) and sum(folder_mb(d) for d in self.folders) > self.disk_mb


def _stop(proc: subprocess.Popen, graceful: bool) -> int:
    """End a candidate at a limit: its supervisor is asked first (it ends every process the candidate
    started, daemons included), then the process group is killed."""
    if graceful:
        try:
            proc.send_signal(signal.SIGTERM)
            _, status, _ = _wait4_within(proc.pid, STOP_GRACE_SECONDS)
            if status is not None:
                return os.waitstatus_to_exitcode(status)
        except ProcessLookupError:
            pass
    _kill_group(proc.pid)
    _, status, _ = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status)


def _wait4_within(pid: int, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            return got, status, usage
        time.sleep(0.02)
    return 0, None, None


def folder_mb(folder: Path) -> float:
    """Size of the files below `folder` (links not followed), in MB."""
    total = 0
    for root, dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total / 2**20


# --- the rules ------------------------------------------------------------------------------------

def node_temp() -> Path:
    """A candidate's private temp folder, named after this agent's process so that one left by an
    agent killed before its cleanup ran (kill -9, a lost machine) is removed by the next agent."""
    _remove_orphan_temps()
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))


@lru_cache(maxsize=1)
def _remove_orphan_temps() -> None:
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = path.name[len(TEMP_PREFIX):].split("-")[0]
        try:
            ours = path.lstat().st_uid == os.getuid()
        except OSError:
            continue
        if ours and pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def private_home(temp: Path) -> dict[str, str]:
    """HOME and every temp and cache variable point at the node's private temp folder, never the user's."""
    # Compilers' caches too: torch sets TORCHINDUCTOR_CACHE_DIR in the agent's own environment once imported.
    variables = {name: str(temp) for name in ("HOME", "TMPDIR", "TEMP", "TMP", "JOBLIB_TEMP_FOLDER", "MPLCONFIGDIR",
                                                "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "KAGGLE_CONFIG_DIR",
                                                "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "CUDA_CACHE_PATH",
                                                "NUMBA_CACHE_DIR")}
    return {**variables, "HF_HUB_OFFLINE": "1"}


@lru_cache(maxsize=1)
def environment_reads() -> list[str]:
    """The Python environment, the system's libraries and the project's `pipelines` package: what
    every candidate may read. A source checkout around `pipelines` is not among them (its data/ may
    hold competitions and runs); `import_folder` makes the package importable without it."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages(),
             os.path.dirname(os.path.realpath(sys.executable)), pipelines_folder()}
    user_site = site.getusersitepackages()
    if os.path.isdir(user_site):
        roots.add(user_site)
    for name in PATH_VARIABLES:
        if os.environ.get(name):
            roots.add(os.environ[name])
    return sorted(roots) + SYSTEM_READ


def pipelines_folder() -> str:
    return os.path.realpath(find_spec("pipelines").submodule_search_locations[0])


def import_folder(temp: Path) -> Path:
    """A folder holding only a link to `pipelines`, first on the candidate's PYTHONPATH, so that the
    package imports without the folder around it being listable."""
    folder = temp / "imports"
    folder.mkdir()
    (folder / "pipelines").symlink_to(pipelines_folder(), target_is_directory=True)
    return folder


def is_private(path: Path) -> bool:
    """A path with a part named `private` (where MLE-bench keeps the answers) is never granted."""
    return any(part.lower() == "private" for part in Path(path).resolve().parts)


def confinement_policy(confinement: Confinement, temp: Path) -> dict:
    """What agent.confine reads on stdin: the Landlock rules and the limits."""
    granted = [str(p) for p in confinement.read if not is_private(p)]
    devices = [d for pattern in DEVICES for d in sorted(glob.glob(pattern))]
    return {
        "rules": {"read": environment_reads() + granted,
                  "write": [str(temp), *(str(p) for p in confinement.write if not is_private(p)), "/dev/shm"],
                  "devices": devices},
        "limits": {"file_mb": confinement.disk_mb, "processes": confinement.processes},
        "shm_mb": confinement.disk_mb,
        "namespaces": confinement.namespaces,
        "log_head_bytes": confinement.log_head_bytes,
        "log_tail_bytes": confinement.log_tail_bytes,
    }


@lru_cache(maxsize=1)
def not_enforced() -> list[str]:
    """What this machine's kernel does not let the sandbox enforce, for the agent to say once at the start."""
    abi = landlock.abi_version()
    gaps = landlock.not_enforced(abi)
    if not landlock.seccomp_available():
        gaps.append("UDP and other non-TCP sockets (no seccomp)")
    if not _user_namespaces():
        gaps.append("a PID and mount namespace per node (no unprivileged user namespaces): a candidate's processes "
                    "are swept by its supervisor, /dev/shm is shared, /proc shows the host's processes, and the "
                    "unix sockets in /tmp and /run can be connected to")
    return gaps


def _user_namespaces() -> bool:
    """Whether an unprivileged process may make a user and PID namespace here (tried in a throwaway
    interpreter: forking the agent, which has threads, to call into libc would risk a deadlock)."""
    from agent.confine import CLONE_NEWPID, CLONE_NEWUSER

    probe = f"import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare({CLONE_NEWUSER | CLONE_NEWPID}) != 0)"
    return subprocess.run([sys.executable, "-S", "-c", probe], timeout=30).returncode == 0


# --- after the node: the agent's side of its folder --------------------------------------------------

def reclaim(node_dir: Path, owned: dict[str, bytes], files: tuple[str, ...] = ()) -> list[str]:
    """Make a finished node's folder safe for the agent to read and write: links, hard links and
    special files the candidate left are removed, so are folders where the agent expects the regular
    `files`, and the files the agent wrote (`owned`) are put back as the agent wrote them. Returns
    what was removed. Run only once nothing of the candidate runs."""
    removed = []
    for name in files:
        path = node_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            removed.append(name)
    for root, dirs, files in os.walk(node_dir):
        for name in [*dirs, *files]:
            path = os.path.join(root, name)
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink == 1):
                continue
            os.unlink(path)
            removed.append(os.path.relpath(path, node_dir))
        dirs[:] = [d for d in dirs if os.path.isdir(os.path.join(root, d)) and not os.path.islink(os.path.join(root, d))]
    for name, content in owned.items():
        path = node_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        path.unlink(missing_ok=True)
        path.write_bytes(content)
    return removed


def empty_folder(node_dir: Path, keep: set[str]) -> None:
    """Remove everything below `node_dir` but the top-level names in `keep` (a node that filled its folder)."""
    for path in node_dir.iterdir():
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def read_node_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file a candidate wrote, never through a link and never more than `max_bytes`."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise OSError(f"{path} is {info.st_size} bytes, more than the {max_bytes} allowed")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(info.st_size + 1)[:max_bytes]  # read(n) allocates n bytes: the bound may be gigabytes
    finally:
        os.close(fd)


def _mentions_memory_error(log_path: Path) -> bool:
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, log_path.stat().st_size - 4000))
            tail = f.read().decode(errors="replace")
    except OSError:
        return False
    return "MemoryError" in tail or "std::bad_alloc" in tail or "Cannot allocate memory" in tail


def python_argv(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
