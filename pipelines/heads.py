"""What the networks of a candidate share: how their outputs relate to the encoded target, and
what one fit on a fold took. Image and text networks train the same heads under the same harness."""

from __future__ import annotations

from dataclasses import dataclass

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
