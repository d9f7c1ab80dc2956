"""Run untrusted candidate code in a child process with a wall-time limit, a memory limit, its own
folder, and an environment stripped of credentials.

A candidate that crashes, hangs or exhausts memory comes back as a `SandboxResult` saying so;
nothing it does can take the run down with it.
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SECRET_NAME = re.compile(r"(^KAGGLE_|_API_KEY$|_TOKEN$|SECRET|PASSWORD|CREDENTIAL|^AWS_|_KEY$|^AGENT_LLM_)", re.I)
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1


@dataclass
class SandboxResult:
    returncode: int | None
    timed_out: bool
    out_of_memory: bool
    wall_seconds: float
    peak_rss_mb: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.out_of_memory


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


def _child_setup(memory_mb: int, limit_address_space: bool) -> None:
    """Runs in the child before exec: own process group, dies with the parent, no core dumps, an address-space cap."""
    os.setsid()
    try:  # Linux: a parent killed with SIGKILL takes the candidate with it instead of leaving an orphan
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
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
) -> SandboxResult:
    """Run `argv` in `cwd`, output to `log_path`; kill the whole process group at a limit.

    Memory is capped twice: RLIMIT_AS makes big allocations fail at once (off on GPUs, where
    drivers reserve huge address ranges), and the resident size of the process tree is
    watched, so memory used by grandchildren counts too.
    """
    start = time.monotonic()
    peak = 0.0
    timed_out = out_of_memory = False
    # The address-space cap leaves headroom over the resident limit: threads and shared
    # libraries reserve address space they never touch.
    cap_mb = int(memory_mb * 1.5) + 2048
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env if env is not None else clean_env(n_jobs=n_jobs, home=cwd),
            preexec_fn=lambda: _child_setup(cap_mb, limit_address_space),
        )
        watched = psutil.Process(proc.pid)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                returncode = os.waitstatus_to_exitcode(status)
                peak = max(peak, usage.ru_maxrss / 1024)
                break
            peak = max(peak, tree_rss_mb(watched))
            if peak > memory_mb:
                out_of_memory = True
            elif time.monotonic() - start > timeout:
                timed_out = True
            if timed_out or out_of_memory:
                _kill_group(proc.pid)
                _, status, usage = os.wait4(proc.pid, 0)
                returncode = os.waitstatus_to_exitcode(status)
                break
            time.sleep(POLL_SECONDS)
        _kill_group(proc.pid)  # grandchildren left behind by a finished candidate
        proc.returncode = returncode
    if not out_of_memory and returncode != 0 and _mentions_memory_error(log_path):
        out_of_memory = True
    return SandboxResult(returncode, timed_out, out_of_memory, time.monotonic() - start, peak)


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
