"""A small U-Net that maps an image to a per-pixel probability mask, sized to the time it is given.

Why this shape:
- The estimator takes images at their own size, (n, C, H, W), and returns probabilities at that
  size, so the harness encodes and scores masks without knowing how the network saw them. Inside,
  images are resized to a square side chosen from the time: the largest side at which the planned
  epochs fit, as a timed probe of a few steps predicts (a step's cost grows with the side's square).
- Loss: binary cross-entropy plus soft Dice, so a thin or small mask weighs as its overlap does,
  which is what IoU- and Dice-type metrics reward.
- Flips are the augmentation (horizontal always, vertical on request: right for aerial or
  microscope images, wrong for seismic or street scenes, where up is up), and predictions average
  the image and its mirrors.
- The learning rate follows a one-cycle shape over the fit's time (or its epochs, when they end
  first), so a fit ends in time with an annealed model rather than being killed.
- A fit saves its weights in the run's cache, keyed by the items it was fitted on; with
  `continue_training` a later candidate starts from them (a warm restart of the schedule), so a
  run's nodes add up their epochs instead of each starting again. The key holds the fitted items'
  masks, so weights never cross into a fit whose held-out items they saw.
This module imports torch; the agent's own process never imports it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

SIDES = (16, 32, 48, 64, 96, 128, 160, 192, 256)
PROBE_STEPS = 2
PREDICT_SHARE = 0.1  # of the fit's time, kept for predicting the validation and test items
CONTINUED_LR_SHARE = 0.3  # a fit that trains on from saved weights peaks lower: a full restart undoes what they learned


def block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Encoder of `depth` levels doubling `width`, a bottleneck, and a decoder with skip connections."""

    def __init__(self, channels: int, width: int, depth: int) -> None:
        super().__init__()
        widths = [width * 2 ** i for i in range(depth)]
        self.down = nn.ModuleList()
        c = channels
        for w in widths:
            self.down.append(block(c, w))
            c = w
        self.bottom = block(c, 2 * c)
        c = 2 * c
        self.up = nn.ModuleList()
        for w in reversed(widths):
            self.up.append(block(c + w, w))
            c = w
        self.head = nn.Conv2d(c, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for layer, skip in zip(self.up, reversed(skips)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = layer(torch.cat([x, skip], dim=1))
        return self.head(x)[:, 0]


def one_cycle(progress: float, warmup: float = 0.15) -> float:
    """The learning rate's share at `progress` (0..1) of the fit: a linear rise from a tenth, then a cosine
    fall to near zero. Following the time as well as the steps, a fit cut short by its time still anneals."""
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    return max(0.01, 0.5 * (1 + math.cos(math.pi * (progress - warmup) / (1 - warmup))))


def dice_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per pixel plus one minus the soft Dice of the batch."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    dice = (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return bce + 1 - dice


def side_range(native: int) -> tuple[int, int]:
    """The sides worth training at: from the first at least a quarter of the images' own (finer
    detail is lost past that) up to the first at least their own."""
    floor = next((s for s in SIDES if s >= native / 4), SIDES[-1])
    return floor, next((s for s in SIDES if s >= native), SIDES[-1])


def choose_side(native: int, probed: int, per_step: float, steps_needed: int, seconds: float) -> int:
    """The largest side in `side_range` at which `steps_needed` steps fit in `seconds`, from the
    seconds per step timed at side `probed` and scaled by area; the smallest when none fits."""
    floor, cap = side_range(native)
    fitting = [s for s in SIDES if floor <= s <= cap and per_step * (s / probed) ** 2 * steps_needed <= seconds]
    return fitting[-1] if fitting else floor


@dataclass
class FitFacts:
    side: int
    threads: int
    epochs: float
    steps: int
    seconds: float
    continued: bool
    peak_lr: float


class UNetSegmenter:
    """`fit(X, y)` on images (n, C, H, W) and 0/1 masks (n, H, W); `predict(X)` gives (n, H, W) probabilities.

    `ctx` gives the device, the cores and the time: the fit ends by `ctx.fit_deadline` (the
    harness's share for this fit), else by 80% of `ctx.seconds_left()`.
    """

    def __init__(self, ctx: Any, *, width: int = 8, depth: int = 4, lr: float = 3e-3, weight_decay: float = 1e-4,
                 epochs: int = 30, min_epochs: int = 12, batch_size: int = 32, vertical_flips: bool = False,
                 side: int | None = None, continue_training: bool = False) -> None:
        self.ctx = ctx
        self.width, self.depth, self.lr, self.weight_decay = width, depth, lr, weight_decay
        self.epochs, self.min_epochs, self.batch_size = epochs, min_epochs, batch_size
        self.vertical_flips, self.side, self.continue_training = vertical_flips, side, continue_training
        self.device = torch.device("cuda" if ctx.device == "cuda" and torch.cuda.is_available() else "cpu")
        self.facts: FitFacts | None = None

    # --- data ---------------------------------------------------------------------------------

    def _images(self, X: np.ndarray, side: int) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=self.device)
        if x.ndim == 3:
            x = x[:, None]
        x = (x - self.mean) / self.std
        return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False) if x.shape[-1] != side \
            or x.shape[-2] != side else x

    def _targets(self, y: np.ndarray, side: int) -> torch.Tensor:
        t = torch.as_tensor((np.asarray(y) > 0).astype(np.float32), device=self.device)[:, None]
        return F.interpolate(t, size=(side, side), mode="area")[:, 0]

    def _flip(self, x: torch.Tensor, t: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        flip = torch.rand(len(x), generator=generator, device=self.device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        t = torch.where(flip[:, None, None], t.flip(-1), t)
        if self.vertical_flips:
            flip = torch.rand(len(x), generator=generator, device=self.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-2), x)
            t = torch.where(flip[:, None, None], t.flip(-2), t)
        return x, t

    # --- fitting --------------------------------------------------------------------------------

    def _train(self, model: nn.Module, x: torch.Tensor, t: torch.Tensor, max_steps: int, seconds: float,
               peak_lr: float) -> int:
        """Steps of AdamW on shuffled, flipped batches, the learning rate following the one-cycle shape
        over the larger of the time and the steps used; returns the steps taken."""
        generator = torch.Generator(device=self.device).manual_seed(self.ctx.seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=self.weight_decay)
        amp = self.device.type == "cuda"
        batch = min(self.batch_size, len(x))
        model.train()
        started, step = time.monotonic(), 0
        while True:
            order = torch.randperm(len(x), generator=generator, device=self.device)
            for b in range(0, len(order) - batch + 1, batch):
                progress = max((time.monotonic() - started) / seconds, step / max_steps)
                if progress >= 1:
                    return step
                for group in optimizer.param_groups:
                    group["lr"] = peak_lr * one_cycle(progress)
                xb, tb = self._flip(x[order[b:b + batch]], t[order[b:b + batch]], generator)
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                    logits = model(xb)
                loss = dice_bce(logits.float(), tb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1

    def _probe(self, x: torch.Tensor, t: torch.Tensor) -> tuple[int, float]:
        """Threads (the faster of one and all the candidate's cores; on a busy machine one often wins;
        0 on a GPU) and seconds per step, timed on a throwaway network."""
        model = UNet(x.shape[1], self.width, self.depth).to(self.device)
        self._train(model, x, t, 1, math.inf, self.lr)  # untimed: the first step loads kernels
        options = [0] if self.device.type == "cuda" else list(dict.fromkeys([max(1, self.ctx.n_jobs), 1]))
        timings = {}
        for threads in options:
            if threads:
                torch.set_num_threads(threads)
            started = time.monotonic()
            self._train(model, x, t, PROBE_STEPS, math.inf, self.lr)
            if self.device.type == "cuda":
                torch.cuda.synchronize()
            timings[threads] = (time.monotonic() - started) / PROBE_STEPS
        threads = min(timings, key=timings.get)
        if threads:
            torch.set_num_threads(threads)
        return threads, timings[threads]

    def _weights_file(self, X: np.ndarray, y: np.ndarray) -> Path:
        digest = hashlib.sha1(np.ascontiguousarray(np.asarray(y) > 0).tobytes())
        digest.update(repr((np.asarray(X).shape, self.width, self.depth)).encode())
        return Path(self.ctx.cache_dir) / "unet" / f"{digest.hexdigest()[:16]}.pt"

    def fit(self, X: np.ndarray, y: np.ndarray) -> UNetSegmenter:
        started = time.monotonic()
        end = self.ctx.fit_deadline if self.ctx.fit_deadline is not None else started + 0.8 * self.ctx.seconds_left()
        torch.manual_seed(self.ctx.seed)
        saved_file = self._weights_file(X, y)
        saved = torch.load(saved_file, map_location=self.device) if self.continue_training and saved_file.exists() \
            else None
        if saved is not None:
            self.mean, self.std, self.side = saved["mean"], saved["std"], saved["side"]
        else:
            pixels = torch.as_tensor(np.asarray(X[: min(len(X), 500)]), dtype=torch.float32)
            pixels = pixels if pixels.ndim == 4 else pixels[:, None]
            self.mean = pixels.mean(dim=(0, 2, 3), keepdim=True).to(self.device)
            self.std = (pixels.std(dim=(0, 2, 3), keepdim=True) + 1e-3).to(self.device)
        native = max(np.asarray(X).shape[-2:])
        probe_side = self.side or side_range(native)[0]
        sample = np.arange(min(len(X), 2 * self.batch_size))
        threads, per_step = self._probe(self._images(X[sample], probe_side), self._targets(y[sample], probe_side))
        steps_per_epoch = max(1, len(X) // self.batch_size)
        train_seconds = max(1.0, (end - time.monotonic()) * (1 - PREDICT_SHARE))
        side = self.side or choose_side(native, probe_side, per_step, self.min_epochs * steps_per_epoch, train_seconds)
        model = UNet(np.asarray(X).shape[1] if np.asarray(X).ndim == 4 else 1, self.width, self.depth).to(self.device)
        if saved is not None:
            model.load_state_dict(saved["state"])
        peak_lr = self.lr * (CONTINUED_LR_SHARE if saved is not None else 1.0)
        done = self._train(model, self._images(X, side), self._targets(y, side), self.epochs * steps_per_epoch,
                           train_seconds, peak_lr)
        self.model, self.side_used = model, side
        saved_file.parent.mkdir(parents=True, exist_ok=True)
        partial = saved_file.with_suffix(".partial")
        torch.save({"state": model.state_dict(), "side": side, "mean": self.mean, "std": self.std}, partial)
        partial.replace(saved_file)
        self.facts = FitFacts(side, threads, round(done / steps_per_epoch, 2), done, round(time.monotonic() - started, 1),
                              saved is not None, peak_lr)
        log.info("U-Net: side %d, %d threads, %d steps (%.1f epochs) in %.0fs%s", side, threads, done,
                 done / steps_per_epoch, self.facts.seconds, ", continued" if saved is not None else "")
        return self

    @torch.no_grad()
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (n, H, W) at the images' own size, averaged over the image and its flips."""
        self.model.eval()
        height, width = np.asarray(X).shape[-2:]
        out = np.empty((len(X), height, width), dtype=np.float32)
        step = 4 * self.batch_size
        for b in range(0, len(X), step):
            x = self._images(X[b:b + step], self.side_used)
            views = [(x, lambda v: v), (x.flip(-1), lambda v: v.flip(-1))]
            if self.vertical_flips:
                views.append((x.flip(-2), lambda v: v.flip(-2)))
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                logits = sum(undo(self.model(v).float()) for v, undo in views) / len(views)
            logits = F.interpolate(logits[:, None], size=(height, width), mode="bilinear", align_corners=False)[:, 0]
            out[b:b + step] = torch.sigmoid(logits).cpu().numpy()
        return out
