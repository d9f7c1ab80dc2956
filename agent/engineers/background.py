"""One slow proposal at a time in a thread, so the search keeps the cores busy while a model thinks.

An LLM takes seconds to minutes per reply; the search runs built-in steps meanwhile and runs the
reply as soon as it arrives. The thread is a daemon and nothing waits for it at the deadline: a
reply still pending when the budget ends is dropped, so the run ends on time whatever the latency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from agent.engineers.base import Ask, Proposal


class BackgroundProposal:
    """The pending proposal for one `Ask`: started, then taken once it has arrived."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._ask: Ask | None = None
        self._result: Proposal | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()

    @property
    def busy(self) -> bool:
        """A call is running and its reply has not arrived yet."""
        return self._thread is not None and not self._done.is_set()

    @property
    def idle(self) -> bool:
        """Nothing is pending and no reply waits to be taken: a new call may start."""
        return self._thread is None

    @property
    def ask(self) -> Ask | None:
        return self._ask

    def start(self, ask: Ask, propose: Callable[[], Proposal | None]) -> None:
        if self._thread is not None:
            raise RuntimeError("a proposal is already pending; take it first")
        self._ask, self._result, self._error = ask, None, None
        self._done.clear()

        def work() -> None:
            try:
                self._result = propose()
            except BaseException as exc:  # raised in the search's thread by `take`, as a direct call would
                self._error = exc
            finally:
                self._done.set()

        self._thread = threading.Thread(target=work, name=f"propose-{ask.kind}", daemon=True)
        self._thread.start()

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for the pending reply; whether it has arrived."""
        return self._thread is not None and self._done.wait(max(0.0, seconds))

    def take(self) -> tuple[Ask, Proposal | None] | None:
        """The arrived (ask, proposal), once; None while nothing has arrived. What the call raised
        (a rejected API key) is raised here."""
        if self._thread is None or not self._done.is_set():
            return None
        ask, result, error = self._ask, self._result, self._error
        self._thread, self._ask, self._result, self._error = None, None, None, None
        if error is not None:
            raise error
        return ask, result
