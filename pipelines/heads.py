"""What the networks of a candidate share: how their outputs relate to the encoded target, and
what one fit on a fold took. Image and text networks train the same heads under the same harness."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class TaskHead:
    """How network outputs relate to the encoded target: outputs, loss, and raw predictions."""

    task: str
    n_outputs: int
    y_mean: np.ndarray | float = 0.0
    y_std: np.ndarray | float = 1.0
    per_token: ClassVar[bool] = False  # one output per row, pooled over its tokens

    @classmethod
    def for_target(cls, task: str, y: np.ndarray, n_classes: int) -> TaskHead:
        if task == "binary":
            return cls(task, 1)
        if task == "multiclass":
            return cls(task, n_classes)
        width = y.shape[1] if y.ndim > 1 else 1
        if task == "multilabel":
            return cls(task, width)
        return cls(task, width, y.mean(axis=0), y.std(axis=0) + 1e-9)

    def target_tensor(self, y: np.ndarray) -> torch.Tensor:
        if self.task == "multiclass":
            return torch.tensor(y, dtype=torch.long)
        values = (y - self.y_mean) / self.y_std if self.task == "regression" else y
        return torch.as_tensor(np.asarray(values, dtype=np.float32).reshape(len(y), self.n_outputs))

    def loss(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        outputs = outputs.float()
        if self.task == "multiclass":
            return F.cross_entropy(outputs, target)
        if self.task == "regression":
            return F.mse_loss(outputs, target)
        return F.binary_cross_entropy_with_logits(outputs, target)

    def to_raw(self, outputs: torch.Tensor) -> torch.Tensor:
        """Probabilities (positive class, classes, labels) or values, before averaging over TTA views."""
        if self.task == "multiclass":
            return outputs.float().softmax(dim=1)
        if self.task == "regression":
            return outputs.float() * torch.as_tensor(self.y_std, dtype=torch.float32, device=outputs.device) \
                + torch.as_tensor(self.y_mean, dtype=torch.float32, device=outputs.device)
        return outputs.float().sigmoid()

    def raw_shape(self, n: int) -> tuple[int, ...]:
        """The harness's shape of raw predictions: one column per output, a vector for a single one."""
        return (n,) if self.n_outputs == 1 and self.task != "multiclass" else (n, self.n_outputs)

    def finish(self, raw: np.ndarray) -> np.ndarray:
        return raw.reshape(self.raw_shape(len(raw)))


@dataclass
class FitStats:
    epochs: int  # epochs begun
    steps: int
    seconds: float
    seconds_per_step: float  # after the first two steps, which carry one-off costs (allocation, cuDNN autotuning)


class StepClock:
    """Counts a fit's optimizer steps against its planned total and deadline (time.monotonic()), and times
    the steps after the first two, which carry one-off costs (allocation, kernel autotuning)."""

    def __init__(self, total: int, deadline: float, sync: Callable[[], None] = lambda: None) -> None:
        self.total, self.deadline, self.sync = total, deadline, sync
        self.step = 0
        self.start = self.warm = time.monotonic()

    def running(self) -> bool:
        return self.step < self.total and time.monotonic() < self.deadline

    def optimizer_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, schedule: Any) -> bool:
        """One step on `loss`; whether the fit should stop now (its steps done or its deadline passed)."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        self.step += 1
        if self.step == 2:
            self.sync()
            self.warm = time.monotonic()
        return not self.running()

    def stats(self, epochs: int) -> FitStats:
        self.sync()
        end = time.monotonic()
        per_step = (end - self.warm) / (self.step - 2) if self.step > 2 else (end - self.start) / max(self.step, 1)
        return FitStats(epochs, self.step, end - self.start, per_step)


class SpanHead:
    """Two outputs per token, the answer's first and last token: each a softmax over the row's tokens.
    The target is (start, end) token positions per row."""

    n_outputs = 2
    per_token: ClassVar[bool] = True

    def loss(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        outputs = outputs.float()
        return (F.cross_entropy(outputs[..., 0], target[:, 0]) + F.cross_entropy(outputs[..., 1], target[:, 1])) / 2
