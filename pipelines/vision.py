"""Image models on the competition's own images: a compact residual CNN trained from scratch (or a
local pretrained backbone fine-tuned), fitted on each of the run's folds within the node's time limit.

Why this shape:
- Images are decoded once per candidate into one uint8 array at a small square side chosen from
  the data (16-128 px), so epochs cost only the network; on a GPU the array usually lives on
  the device and batches never cross the bus. Augmentation (flips, shifts, zoom, optionally
  rotations) is one affine resampling of the batch on the device.
- Training steps are planned from a timed probe and the time left (`ctx.seconds_left()`): the
  same number for every fold (fewer only when a fold runs late), with a hard stop per fold, so
  the node ends before its limit with out-of-fold and test predictions for every row.
- Pretrained weights cannot be downloaded here; when `AGENT_IMAGE_BACKBONE` names a TorchScript file
  (e.g. a timm or torchvision model scripted and saved while online), it replaces the from-scratch
  network as the feature extractor under a new head.
This module imports torch; the agent's own process never imports it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import psutil
import torch
import torch.nn.functional as F
from torch import nn

from pipelines.folds import training_rows
from pipelines.heads import FitStats, StepClock, TaskHead
from pipelines.image_files import load_images, open_image

log = logging.getLogger(__name__)

BACKBONE_ENV = "AGENT_IMAGE_BACKBONE"
LOAD_SHARE = 0.4  # of the node's time, the most that decoding the images may take
TEST_EVERY_FOLD_SHARE = 0.1  # of the time left, the most that every fold's predictions of the test may take
PREDICT_STEP_SHARE = 0.5  # a prediction of an image costs about this share of a training step's, per image
SIDES = (16, 24, 32, 48, 64, 96, 128, 160, 192, 224)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


# --- planning: pure functions of the data and the machine --------------------------------------

@dataclass(frozen=True)
class Plan:
    """How one image model is trained: sizes, device and precision."""

    device: str
    side: int
    channels: int
    width: int
    batch_size: int
    precision: str  # "bf16" or "fp32"
    data_on_device: bool


def choose_device(requested: str, cuda_available: bool) -> str:
    """'cuda' when the run gave this candidate the GPU and torch can use it, else 'cpu'."""
    return "cuda" if requested == "cuda" and cuda_available else "cpu"


def choose_side(short_side: float, device: str, *, backbone: bool = False, larger: bool = False) -> int:
    """The square side images are resized to: about their own size, capped by what the device trains fast.

    Two CPU cores train a small network on about 800 images a second at 32 px and a quarter of
    that at 64 px, so a CPU stays at 32 px; a GPU affords 128 px (224 for a pretrained backbone,
    which was trained near that size and needs at least 64). `larger` takes one size up.
    """
    cap = (224 if device == "cuda" else 128) if backbone else (128 if device == "cuda" else 32)
    side = min([s for s in SIDES if s <= max(short_side, SIDES[0])][-1], cap)
    if backbone:
        side = max(side, 64)
    return SIDES[min(SIDES.index(side) + 1, len(SIDES) - 1)] if larger else side


def plan_training(n_images: int, short_side: float, channels: int, requested_device: str, *, cuda_available: bool,
                  bf16_supported: bool = False, host_memory: int, device_memory: int = 0, backbone: bool = False,
                  larger: bool = False) -> Plan:
    """Sizes for `n_images` images of about `short_side` px; the decoded array must fit a quarter of the host's memory."""
    device = choose_device(requested_device, cuda_available)
    side = choose_side(short_side, device, backbone=backbone, larger=larger)
    while side > SIDES[0] and n_images * channels * side * side > host_memory // 4:
        side = SIDES[SIDES.index(side) - 1]
    data_bytes = n_images * channels * side * side
    gpu = device == "cuda"
    return Plan(device=device, side=side, channels=channels, width=64 if gpu else 16, batch_size=256 if gpu else 64,
                precision="bf16" if gpu and bf16_supported else "fp32",
                data_on_device=gpu and data_bytes < device_memory // 3)


def batch_size_for(plan_batch: int, n_train: int) -> int:
    """The plan's batch, smaller for small data so an epoch has at least ~8 steps."""
    return int(max(8, min(plan_batch, 2 ** math.floor(math.log2(max(n_train // 8, 1))))))


# --- images --------------------------------------------------------------------------------------

def image_facts(paths: Sequence[str], sample: int = 200, seed: int = 0) -> tuple[float, int]:
    """Median shorter side and channels (1 when every sampled image is grayscale) from file headers."""
    rng = np.random.default_rng(seed)
    present = [p for p in paths if p]
    picked = [present[i] for i in rng.choice(len(present), min(sample, len(present)), replace=False)] if present else []
    sides, gray = [], []
    for path in picked:
        try:
            with open_image(path) as image:
                sides.append(min(image.size))
                gray.append(image.mode in GRAY_MODES)
        except (OSError, ValueError):
            continue
    if not sides:
        raise ValueError(f"none of {len(picked)} sampled image files could be read (e.g. {picked[:2]})")
    return float(np.median(sides)), 1 if all(gray) else 3


# --- networks ------------------------------------------------------------------------------------

class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x), inplace=True)


class SmallResNet(nn.Module):
    """A ResNet-style network for small images: stages halve the map down to about 4x4, doubling the width."""

    def __init__(self, channels: int, n_outputs: int, width: int, side: int) -> None:
        super().__init__()
        stem_stride = 2 if side >= 96 else 1
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, stem_stride, 1, bias=False), nn.BatchNorm2d(width),
                                   nn.ReLU(inplace=True)]
        size, c_in = side // stem_stride, width
        for stage in range(4):
            c_out = width * 2 ** stage
            stride = 1 if stage == 0 else 2
            layers.append(ResidualBlock(c_in, c_out, stride))
            size, c_in = size // stride, c_out
            if size // 2 < 4:
                break
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(c_in, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


class BackboneNet(nn.Module):
    """A pretrained feature extractor (TorchScript) under a new linear head."""

    def __init__(self, backbone: nn.Module, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(n_features, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        if features.ndim == 4:  # a feature map: average it
            features = features.mean(dim=(2, 3))
        return self.head(features.flatten(1).float())


def load_backbone(path: str) -> tuple[nn.Module, int]:
    """The TorchScript module at `path` and the size of its output for a 3x64x64 image."""
    try:
        module = torch.jit.load(path, map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"{BACKBONE_ENV}={path} is not a TorchScript file (save a model with "
                         f"torch.jit.save(torch.jit.script(model), path)): {exc}") from None
    module.eval()
    with torch.no_grad():
        out = module(torch.zeros(1, 3, 64, 64))
    return module, int(out.shape[1])


# --- training ------------------------------------------------------------------------------------

def augment(x: torch.Tensor, rotations: bool, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips, shifts up to 10% and zoom of +-10% in one affine resampling; with
    `rotations` also vertical flips and quarter turns (right for aerial and microscope images)."""
    n, device = x.shape[0], x.device
    uniform = lambda *shape: torch.rand(*shape, generator=generator, device=device)  # noqa: E731
    scale = 0.9 + 0.2 * uniform(n)
    flip_x = torch.where(uniform(n) < 0.5, -1.0, 1.0)
    flip_y = torch.where(uniform(n) < 0.5, -1.0, 1.0) if rotations else torch.ones(n, device=device)
    angle = (torch.floor(uniform(n) * 4) * (math.pi / 2)) if rotations else torch.zeros(n, device=device)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos * flip_x, -sin * flip_y, 0.2 * uniform(n) - 0.1], dim=1),
                         torch.stack([sin * flip_x, cos * flip_y, 0.2 * uniform(n) - 0.1], dim=1)], dim=1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


@dataclass
class Images:
    """The decoded images with their normalisation, on the device when they fit there."""

    pixels: torch.Tensor  # uint8 (n, c, s, s)
    mean: torch.Tensor
    std: torch.Tensor
    device: torch.device
    channels_out: int  # what the network takes: 3 for a backbone fed grayscale images

    def batch(self, rows: torch.Tensor) -> torch.Tensor:
        x = self.pixels[rows.to(self.pixels.device)].to(self.device, non_blocking=True).float().div_(255)
        x = (x - self.mean) / self.std
        return x.expand(-1, self.channels_out, -1, -1) if x.shape[1] != self.channels_out else x


class Trainer:
    """Fits and predicts one network per fold with the settings of a `Plan`."""

    def __init__(self, plan: Plan, images: Images, head: TaskHead, target: torch.Tensor, *, lr: float,
                 weight_decay: float, rotations: bool, seed: int, backbone_path: str | None = None) -> None:
        self.plan, self.images, self.head = plan, images, head
        self.target = target.to(images.device)  # the encoded target of every train row
        self.lr, self.weight_decay, self.rotations, self.seed = lr, weight_decay, rotations, seed
        self.backbone_path = backbone_path
        self.device = images.device

    def new_model(self) -> nn.Module:
        if self.backbone_path:
            backbone, n_features = load_backbone(self.backbone_path)
            model: nn.Module = BackboneNet(backbone, n_features, self.head.n_outputs)
        else:
            model = SmallResNet(self.plan.channels, self.head.n_outputs, self.plan.width, self.plan.side)
        return model.to(self.device, memory_format=self._memory_format)

    @property
    def _memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.device.type == "cuda" else torch.contiguous_format

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        if isinstance(model, BackboneNet):  # pretrained layers move ten times slower than the new head
            groups = [{"params": model.backbone.parameters(), "lr": self.lr / 10},
                      {"params": model.head.parameters(), "lr": self.lr}]
        else:
            groups = [{"params": model.parameters(), "lr": self.lr}]
        return torch.optim.AdamW(groups, weight_decay=self.weight_decay)

    def _autocast(self):
        enabled = self.plan.precision == "bf16"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def fit(self, rows: np.ndarray, batch_size: int, epochs: int, deadline: float,
            max_steps: int | None = None) -> tuple[nn.Module, FitStats]:
        """A model trained on train rows `rows` with a one-cycle schedule over `epochs` (or `max_steps`),
        stopped early at `deadline` (time.monotonic())."""
        torch.manual_seed(self.seed)
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        model = self.new_model()
        optimizer = self._optimizer(model)
        steps_per_epoch = max(1, len(rows) // batch_size)
        total = max(2, steps_per_epoch * epochs if max_steps is None else max_steps)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total, pct_start=0.25)
        index = torch.as_tensor(rows)
        model.train()
        clock, epoch = StepClock(total, deadline, self._sync), 0
        while clock.running():
            order = index[torch.randperm(len(index))]
            epoch += 1
            for b in range(steps_per_epoch):
                batch = order[b * batch_size:(b + 1) * batch_size]
                x = augment(self.images.batch(batch), self.rotations, generator)
                with self._autocast():
                    loss = self.head.loss(model(x.contiguous(memory_format=self._memory_format)),
                                          self.target[batch.to(self.device)])
                if clock.optimizer_step(loss, optimizer, schedule):
                    break
        return model, clock.stats(epoch)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    @torch.no_grad()
    def predict(self, model: nn.Module, rows: np.ndarray, batch_size: int) -> np.ndarray:
        """Raw predictions averaged over the image and its mirror (and its vertical flip with rotations)."""
        model.eval()
        out = []
        for b in range(0, len(rows), batch_size):
            x = self.images.batch(torch.as_tensor(rows[b:b + batch_size]))
            views = [x, x.flip(3)] + ([x.flip(2)] if self.rotations else [])
            with self._autocast():
                raw = sum(self.head.to_raw(model(v.contiguous(memory_format=self._memory_format))) for v in views)
            out.append((raw / len(views)).float().cpu().numpy())
        return self.head.finish(np.concatenate(out).astype(np.float64))


def probe_threads(trainer: Trainer, rows: np.ndarray, batch: int, n_jobs: int) -> tuple[int, float]:
    """Seconds per training step from a few timed steps, which plan the first fold; on a CPU with several
    cores also the faster of one thread and `n_jobs` threads (small steps lose to thread synchronisation,
    the more so on a busy machine). Returns the threads kept (0 on a GPU) and the seconds per step."""
    trainer.fit(rows, batch, 1, math.inf, max_steps=3)  # untimed: first calls load kernels and lazy modules
    timings = {}
    for threads in dict.fromkeys([n_jobs, 1] if n_jobs > 1 else [n_jobs]):
        if threads:
            torch.set_num_threads(threads)
        timings[threads] = trainer.fit(rows, batch, 1, math.inf, max_steps=8)[1].seconds_per_step
    threads = min(timings, key=timings.get)
    if threads:
        torch.set_num_threads(threads)
    return threads, timings[threads]


def _normalisation(pixels: np.ndarray, rows: np.ndarray, backbone: bool) -> tuple[np.ndarray, np.ndarray]:
    if backbone:
        if pixels.shape[1] == 1:  # grayscale repeated to three channels: one channel's statistics
            return np.array([np.mean(IMAGENET_MEAN)]), np.array([np.mean(IMAGENET_STD)])
        return np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    sample = pixels[rows[:2000]].astype(np.float32) / 255
    return sample.mean(axis=(0, 2, 3)), sample.std(axis=(0, 2, 3)) + 1e-3


def image_trainer(train_paths: Sequence[str], test_paths: Sequence[str], y: np.ndarray, ctx: Any, *, lr: float,
                  weight_decay: float, rotations: bool, larger: bool) -> tuple[Trainer, Plan, dict[str, Any]]:
    """The images loaded at the planned size onto the planned device, and a trainer for them; with
    facts about the loading (seconds, unreadable images, the backbone)."""
    started = time.monotonic()
    backbone_path = os.environ.get(BACKBONE_ENV) or None
    if backbone_path and not os.path.isfile(backbone_path):
        raise ValueError(f"{BACKBONE_ENV}={backbone_path}: no such file")
    paths = list(train_paths) + list(test_paths)
    short_side, channels = image_facts(train_paths, seed=ctx.seed)
    cuda = torch.cuda.is_available()
    plan = plan_training(
        len(paths), short_side, channels, ctx.device, cuda_available=cuda,
        bf16_supported=cuda and torch.cuda.is_bf16_supported(), host_memory=psutil.virtual_memory().available,
        device_memory=torch.cuda.mem_get_info()[0] if cuda and ctx.device == "cuda" else 0,
        backbone=backbone_path is not None, larger=larger)
    if plan.device == "cuda":
        torch.backends.cudnn.benchmark = True
    check_loading_fits(paths, plan, ctx)
    pixels, unreadable = load_images(paths, plan.side, plan.channels, ctx.n_jobs)
    if unreadable:
        log.warning("%d of %d images could not be read; they are left black", unreadable, len(paths))
    device = torch.device(plan.device)
    mean, std = _normalisation(pixels, np.arange(len(train_paths)), backbone_path is not None)
    tensor = torch.from_numpy(pixels)
    if plan.device == "cuda":
        tensor = tensor.to(device) if plan.data_on_device else tensor.pin_memory()
    shape = (1, -1, 1, 1)
    images = Images(tensor, torch.as_tensor(mean, dtype=torch.float32, device=device).view(shape),
                    torch.as_tensor(std, dtype=torch.float32, device=device).view(shape), device,
                    3 if backbone_path else plan.channels)
    head = TaskHead.for_target(ctx.spec.task, y, ctx.spec.n_classes)
    trainer = Trainer(plan, images, head, head.target_tensor(y), lr=lr, weight_decay=weight_decay,
                      rotations=rotations, seed=ctx.seed, backbone_path=backbone_path)
    loaded = {"backbone": os.path.basename(backbone_path) if backbone_path else None,
              "load_seconds": round(time.monotonic() - started, 2), "unreadable_images": unreadable}
    return trainer, plan, loaded


def check_loading_fits(paths: Sequence[str], plan: Plan, ctx: Any, sample: int = 64) -> None:
    """A ValueError at once when decoding every image would take most of the node's time (237,000 patches on
    two cores: 110 s), instead of a node that times out after spending its whole limit."""
    present = [p for p in paths if p]
    if len(present) <= 4 * sample:
        return
    started = time.monotonic()
    load_images(present[:: len(present) // sample][:sample], plan.side, plan.channels, ctx.n_jobs)
    needed = (time.monotonic() - started) / sample * len(present)
    if needed > LOAD_SHARE * ctx.seconds_left():
        raise ValueError(f"decoding {len(present)} images would take about {needed:.0f}s of the "
                         f"{ctx.seconds_left():.0f}s left; a longer limit or a GPU machine fits them")


def cross_fit_images(train_paths: Sequence[str], test_paths: Sequence[str], y: np.ndarray, folds: np.ndarray, ctx: Any,
                     *, max_epochs: int = 30, lr: float = 2e-3, weight_decay: float = 0.05, rotations: bool = False,
                     larger: bool = False, safety: float = 0.85) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Out-of-fold and fold-averaged test predictions of an image network, and facts about the training.

    `y` is the encoded target of the train rows (`ctx.target(train)`); `folds[i]` is row i's
    validation fold (-1: only ever trained on). Training uses `safety` of the time left.
    """
    started = time.monotonic()
    trainer, plan, loaded = image_trainer(train_paths, test_paths, y, ctx, lr=lr, weight_decay=weight_decay,
                                          rotations=rotations, larger=larger)
    n_train, n_all = len(train_paths), len(train_paths) + len(test_paths)

    fold_ids = sorted(set(folds[folds >= 0].tolist()))
    fit_rows = [training_rows(folds, k, ctx.spec) for k in fold_ids]
    batch = batch_size_for(plan.batch_size, min(len(r) for r in fit_rows))
    test_rows = np.arange(n_train, n_all)
    threads, seconds_per_step = probe_threads(trainer, fit_rows[0], batch, ctx.n_jobs if plan.device == "cpu" else 0)

    oof = np.full(trainer.head.raw_shape(n_train), np.nan)
    test_pred = np.zeros(trainer.head.raw_shape(len(test_rows)))
    fitted: list[FitStats] = []
    steps = math.inf
    views = 3 if rotations else 2
    per_image = views * PREDICT_STEP_SHARE * seconds_per_step / batch
    held_out = int((folds >= 0).sum())
    # A large test set is predicted by the last fold's model alone: every fold's predictions would leave no
    # time to train (57,000 test images take a CPU a minute a fold).
    every_fold = len(test_rows) * len(fold_ids) * per_image <= TEST_EVERY_FOLD_SHARE * ctx.seconds_left()
    if (held_out + len(test_rows) * (len(fold_ids) if every_fold else 1)) * per_image > safety * ctx.seconds_left():
        raise ValueError(f"predicting {held_out} held-out and {len(test_rows)} test images would take more than "
                         f"the {ctx.seconds_left():.0f}s left; a longer limit or a GPU machine fits them")
    for i, (k, rows) in enumerate(zip(fold_ids, fit_rows)):
        valid_rows = np.flatnonzero(folds == k)
        steps_per_epoch = max(1, len(rows) // batch)
        predicts_test = every_fold or i == len(fold_ids) - 1
        predict_seconds = (len(valid_rows) + len(test_rows) * predicts_test) * per_image
        left = ctx.seconds_left()  # less a reserve for writing the results: 5 s, less for a short node
        share = (safety * left - min(5.0, 0.1 * left)) / (len(fold_ids) - i) - predict_seconds
        # Steps, not whole epochs, so a short budget is not rounded down to one epoch; and every fold
        # trains as long as the first (less only when running late), so the out-of-fold score
        # measures one model rather than a mix of short and long ones.
        steps = min(steps, max(2, int(min(share / seconds_per_step, max_epochs * steps_per_epoch))))
        model, stats = trainer.fit(rows, batch, max_epochs, time.monotonic() + max(share, 1.0) * 1.1, max_steps=steps)
        seconds_per_step = stats.seconds_per_step  # the next fold is planned with this fold's pace
        oof[valid_rows] = trainer.predict(model, valid_rows, 2 * batch)
        if predicts_test:
            test_pred += trainer.predict(model, test_rows, 2 * batch) / (len(fold_ids) if every_fold else 1)
        fitted.append(stats)
        log.info("fold %s: %d of %d steps in %.1fs (%.3fs per step)", k, stats.steps, steps, stats.seconds,
                 stats.seconds_per_step)
        del model

    facts = {**asdict(plan), **loaded, "threads": threads, "batch": batch, "test_by_every_fold": every_fold,
             "epochs": [s.epochs for s in fitted],
             "steps": [s.steps for s in fitted],
             "seconds_per_epoch": round(float(np.mean([s.seconds / max(s.epochs, 1) for s in fitted])), 3),
             "seconds": round(time.monotonic() - started, 1)}
    return oof, test_pred, facts
