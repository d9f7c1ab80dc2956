"""Where tasks run: a local pool of worker slots, or Ray tasks on an existing Ray cluster.

Both yield ``(task, record)`` as tasks finish, in finishing order. A local slot is a thread
that runs one `agent compete` child process at a time (a crashing run is a failed task; it
cannot break the pool, as a dying worker breaks a ``ProcessPoolExecutor``). On Ray, each task
is a Ray task holding its CPUs and GPUs while its child process runs; the cluster's nodes must
see the data and bench folders at the same paths and have `agent` installed.

Stopping the iteration (Ctrl-C, an exception in the caller) kills the running children and
leaves their run folders to resume.
"""

from __future__ import annotations

import logging
import queue
import re
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from agent.bench.plan import Task
from agent.bench.worker import TaskInterrupted, failed_record, gpu_count, run_task
from pipelines.errors import InputError

log = logging.getLogger(__name__)

Finished = tuple[Task, dict[str, Any]]
WAIT_SECONDS = 0.5
RAY_STOP_SECONDS = 30.0


def gpu_slots(workers: int, gpus_per_task: float, available: int | None = None) -> list[list[str] | None]:
    """GPU ids for each local worker slot: None (inherit the environment) without
    --gpus-per-task; else disjoint sets while there are enough GPUs, shared round-robin past that."""
    if not gpus_per_task:
        return [None] * workers
    if gpus_per_task != int(gpus_per_task):
        raise InputError("a local pool hands out whole GPUs; fractions need --ray-address", "--gpus-per-task")
    available = gpu_count() if available is None else available
    per_task = int(gpus_per_task)
    if available < per_task:
        raise InputError(f"{per_task} GPU(s) per task asked, {available} on this machine", "--gpus-per-task")
    return [[str((slot * per_task + j) % available) for j in range(per_task)] for slot in range(workers)]


def run_local(tasks: list[Task], workers: int, cpus: int, gpus_per_task: float,
              on_start: Callable[[Task], None]) -> Iterator[Finished]:
    todo: queue.Queue[Task] = queue.Queue()
    for task in tasks:
        todo.put(task)
    finished: queue.Queue[Finished] = queue.Queue()
    stop = threading.Event()

    def work(gpu_ids: list[str] | None) -> None:
        while not stop.is_set():
            try:
                task = todo.get_nowait()
            except queue.Empty:
                return
            on_start(task)
            try:
                record = run_task(task, cpus, gpu_ids, stop)
            except TaskInterrupted:
                return
            except Exception as exc:  # a bug or a full disk here must not stop the other slots
                log.exception("task %s", task.name)
                record = failed_record(task, f"bench worker error: {exc!r}")
            finished.put((task, record))

    slots = gpu_slots(min(workers, len(tasks)), gpus_per_task)
    threads = [threading.Thread(target=work, args=(gpu_ids,), name=f"bench-slot-{i}", daemon=True)
               for i, gpu_ids in enumerate(slots)]
    for thread in threads:
        thread.start()
    try:
        for _ in tasks:
            while True:
                try:
                    item = finished.get(timeout=WAIT_SECONDS)
                    break
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and finished.empty():
                        return
            yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join()


class StopFlag:
    """Set by the bench when it stops, watched by its Ray tasks, which then kill their runs.
    It stands in for ``ray.cancel``, which can abort the driver when the cancel races with a task
    that is finishing at that moment ("Tried to complete task that was not pending", ray#54846)."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


def _ray_task(task: Task, cpus: int, flag: Any) -> dict[str, Any] | None:
    """Runs on a Ray worker; Ray has set CUDA_VISIBLE_DEVICES to the task's GPUs.
    Returns None when the bench stopped it (or went away) and the run was killed."""
    import ray

    stop, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.wait(WAIT_SECONDS):
            try:
                stopped = ray.get(flag.is_set.remote())
            except ray.exceptions.RayError:  # the flag died with the bench that owns it
                stopped = True
            if stopped:
                stop.set()
                return

    threading.Thread(target=watch, name="bench-stop-watch", daemon=True).start()
    try:
        return run_task(task, cpus, None, stop)
    except TaskInterrupted:
        return None
    finally:
        done.set()


def check_ray_address(address: str, timeout: float = 5.0) -> None:
    """Fail at once on a host:port (or ray://host:port) where nothing listens; ray.init would retry
    for as long as it is left to. Other forms ('auto', 'local') are ray.init's to resolve."""
    match = re.fullmatch(r"(?:ray://)?\[?([^\]]+?)\]?:(\d+)", address)
    if not match:
        return
    try:
        socket.create_connection((match[1], int(match[2])), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"cannot reach Ray at {address}: {exc.strerror or exc}", "--ray-address") from None


def run_on_ray(tasks: list[Task], workers: int, cpus: int, gpus_per_task: float, address: str,
               on_start: Callable[[Task], None]) -> Iterator[Finished]:
    try:
        import ray
    except ImportError:
        raise InputError("Ray is not installed: pip install 'kagglewright[ray]'", "--ray-address") from None
    started_here = not ray.is_initialized()
    if started_here:
        check_ray_address(address)
        ours = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(f"cannot connect to Ray: {exc}", address) from None
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, ours)  # ray.init installs its own, which exits at once
    remote = ray.remote(_ray_task).options(num_cpus=cpus, num_gpus=gpus_per_task, max_retries=0)
    flag = ray.remote(StopFlag).options(num_cpus=0).remote()
    waiting = list(tasks)
    running: dict[Any, Task] = {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                task = waiting.pop(0)
                on_start(task)
                running[remote.remote(task, cpus, flag)] = task
            ready, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_SECONDS)
            for ref in ready:
                task = running.pop(ref)
                try:
                    record = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker died, or the node went away
                    record = failed_record(task, f"ray task failed: {str(exc).splitlines()[0]}")
                if record is None:  # its stop flag's node went away, so it stopped itself
                    record = failed_record(task, "ray task stopped: the bench's stop flag is gone")
                yield task, record
    finally:
        if running:
            flag.set.remote()
            ray.wait(list(running), num_returns=len(running), timeout=RAY_STOP_SECONDS)
        if started_here:
            ray.shutdown()
