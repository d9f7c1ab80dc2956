"""Boxes found in the competition's own images: a small CenterNet trained from scratch on each fold.

Why this shape:
- CenterNet (Zhou et al., "Objects as Points") needs no anchors and no non-maximum suppression: one heatmap
  per class marks box centres, and each centre cell also predicts its box's width, height and sub-cell
  offset. Its targets are plain arrays and its decoding a max-pool, so it fits in a page and trains on a
  CPU at 64 px.
- Sizes and offsets are fractions of the image, so boxes scale back to each image's own pixels whatever
  its size. A class whose every box is the whole image ("no finding") is a label of the image instead:
  a pooled head gives its probability, answered as the whole-image box.
- Each fold trains until its deadline (`ctx.fit_deadline`, less a share kept for predicting), so a node
  ends within its limit with an answer for every held-out and test image.
This module imports torch; the agent's own process never imports it.
"""

from __future__ import annotations

import time
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipelines.shapes.boxes import WHOLE_IMAGE, Box, BoxClasses
from pipelines.vision import ResidualBlock

STRIDE = 4  # input pixels per heatmap cell
PEAKS = 20  # boxes kept per class and image, most confident first
MAX_BOXES = 100  # kept per image, most confident first: COCO's AP reads no more
PREDICT_SHARE = 0.15  # of a fold's time, kept for predicting its held-out and test images
SIZE_WEIGHT, OFFSET_WEIGHT = 5.0, 1.0  # loss weights of the box size (fractions of the image) and offset


class CentreNet(nn.Module):
    """Residual stages down to 1/8 of the input, one up-step with a skip back to 1/4, and three heads."""

    def __init__(self, channels: int, n_placed: int, n_whole: int, width: int = 16) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.down2, self.down4 = ResidualBlock(width, width, 2), ResidualBlock(width, 2 * width, 2)
        self.down8 = nn.Sequential(ResidualBlock(2 * width, 4 * width, 2), ResidualBlock(4 * width, 4 * width, 1))
        self.lateral = nn.Conv2d(4 * width, 2 * width, 1)
        self.merge = ResidualBlock(2 * width, 2 * width, 1)
        self.heat = nn.Conv2d(2 * width, max(n_placed, 1), 1)
        self.box = nn.Conv2d(2 * width, 4, 1)  # width, height, x offset, y offset
        self.whole = nn.Linear(4 * width, max(n_whole, 1))
        nn.init.constant_(self.heat.bias, -2.19)  # CenterNet's prior: a cell is a centre with chance 0.1

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        quarter = self.down4(self.down2(self.stem(x)))
        eighth = self.down8(quarter)
        up = F.interpolate(self.lateral(eighth), size=quarter.shape[-2:], mode="nearest")
        merged = self.merge(quarter + up)
        return self.heat(merged), torch.sigmoid(self.box(merged)), self.whole(eighth.mean(dim=(2, 3)))


def encode(truth: list[list[Box]], sizes: np.ndarray, classes: BoxClasses, cells: int) -> dict[str, np.ndarray]:
    """Training targets of each image: Gaussian centre heatmaps per placed class, each centre's box (width,
    height, offset as fractions) and a mask of centre cells, and the whole-image labels as 0/1."""
    n = len(truth)
    heat = np.zeros((n, max(len(classes.placed), 1), cells, cells), dtype=np.float32)
    box = np.zeros((n, 4, cells, cells), dtype=np.float32)
    centre = np.zeros((n, cells, cells), dtype=np.float32)
    whole = np.zeros((n, max(len(classes.whole), 1)), dtype=np.float32)
    index = {label: k for k, label in enumerate(classes.placed)}
    grid = np.arange(cells, dtype=np.float32)
    for i, boxes in enumerate(truth):
        height, width = sizes[i]
        for label, _, x0, y0, x1, y1 in boxes:
            if label in classes.whole:
                whole[i, classes.whole.index(label)] = 1.0
                continue
            fx0, fx1 = np.clip([x0 / width, x1 / width], 0, 1)
            fy0, fy1 = np.clip([y0 / height, y1 / height], 0, 1)
            if fx1 <= fx0 or fy1 <= fy0:
                continue
            cx, cy = (fx0 + fx1) / 2 * cells, (fy0 + fy1) / 2 * cells
            sigma = max(0.5, min(fx1 - fx0, fy1 - fy0) * cells / 6)
            bump = np.exp(-((grid[None, :] - cx + 0.5) ** 2 + (grid[:, None] - cy + 0.5) ** 2) / (2 * sigma ** 2))
            k = index[label]
            heat[i, k] = np.maximum(heat[i, k], bump)
            col, row = min(int(cx), cells - 1), min(int(cy), cells - 1)
            heat[i, k, row, col] = 1.0
            box[i, :, row, col] = (fx1 - fx0, fy1 - fy0, cx - col, cy - row)
            centre[i, row, col] = 1.0
    return {"heat": heat, "box": box, "centre": centre, "whole": whole}


def loss(outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], target: dict[str, torch.Tensor],
         classes: BoxClasses) -> torch.Tensor:
    """CenterNet's focal loss on the heatmaps, L1 on the boxes at centre cells, log loss on whole-image labels."""
    heat_logits, box, whole_logits = outputs
    total = torch.zeros((), device=box.device)
    if classes.placed:
        p = torch.sigmoid(heat_logits).clamp(1e-4, 1 - 1e-4)
        truth = target["heat"]
        positive = truth.eq(1).float()
        focal = positive * (1 - p) ** 2 * torch.log(p) + (1 - positive) * (1 - truth) ** 4 * p ** 2 * torch.log(1 - p)
        n_centres = positive.sum().clamp(min=1)
        mask = target["centre"].unsqueeze(1)
        l1 = (torch.abs(box - target["box"]) * mask)
        total = total - focal.sum() / n_centres + (SIZE_WEIGHT * l1[:, :2].sum() + OFFSET_WEIGHT * l1[:, 2:].sum()) \
            / mask.sum().clamp(min=1)
    if classes.whole:
        total = total + F.binary_cross_entropy_with_logits(whole_logits, target["whole"])
    return total


def decode(outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], sizes: np.ndarray,
           classes: BoxClasses) -> list[list[Box]]:
    """Each image's boxes in its own pixels: the heatmaps' local maxima (at most PEAKS per class) with their
    cells' sizes and offsets, and every whole-image label at its probability; the MAX_BOXES most confident."""
    heat_logits, box, whole_logits = outputs
    heat = torch.sigmoid(heat_logits)
    peaks = heat * (F.max_pool2d(heat, 3, 1, 1) == heat)
    cells = heat.shape[-1]
    n, k = heat.shape[0], len(classes.placed)
    found: list[list[Box]] = [[] for _ in range(n)]
    if k:
        scores, where = peaks[:, :k].flatten(2).topk(min(PEAKS, cells * cells), dim=2)
        rows, cols = (where // cells).cpu().numpy(), (where % cells).cpu().numpy()
        scores, box = scores.cpu().numpy(), box.cpu().numpy()
        for i in range(n):
            height, width = sizes[i]
            for c in range(k):
                for score, row, col in zip(scores[i, c], rows[i, c], cols[i, c]):
                    w, h, dx, dy = box[i, :, row, col]
                    cx, cy = (col + dx) / cells, (row + dy) / cells
                    found[i].append((classes.placed[c], float(score), max(cx - w / 2, 0) * width,
                                     max(cy - h / 2, 0) * height, min(cx + w / 2, 1) * width,
                                     min(cy + h / 2, 1) * height))
    if classes.whole:
        chances = torch.sigmoid(whole_logits).cpu().numpy()
        for i in range(n):
            found[i] += [(label, float(chances[i, j]), *WHOLE_IMAGE) for j, label in enumerate(classes.whole)]
    return [sorted(boxes, key=lambda box: -box[1])[:MAX_BOXES] for boxes in found]


def fit_predict(pixels: np.ndarray, truth: list[list[Box]], sizes: np.ndarray, new_pixels: np.ndarray,
                new_sizes: np.ndarray, deadline: float, *, device: str = "cpu", seed: int = 0,
                batch_size: int = 32, lr: float = 2e-3, max_epochs: int = 200) -> tuple[list[list[Box]], dict]:
    """Train on `pixels` (n, c, s, s uint8) with their boxes until `deadline` (time.monotonic()) or `max_epochs`,
    then find the boxes of `new_pixels`. Returns the boxes and what the training did."""
    torch.manual_seed(seed)
    classes = BoxClasses.of(truth)
    cells = pixels.shape[-1] // STRIDE
    target = {name: torch.as_tensor(array, device=device)
              for name, array in encode(truth, sizes, classes, cells).items()}
    x_all = torch.as_tensor(pixels, device=device)
    model = CentreNet(pixels.shape[1], len(classes.placed), len(classes.whole)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    stop = time.monotonic() + (deadline - time.monotonic()) * (1 - PREDICT_SHARE)
    epochs, model_steps = 0, 0
    model.train()
    while epochs < max_epochs and time.monotonic() < stop:
        order = torch.randperm(len(pixels), device=device)
        for b in range(0, len(order), batch_size):
            rows = order[b:b + batch_size]
            batch_loss = loss(model(x_all[rows].float() / 255), {k: v[rows] for k, v in target.items()}, classes)
            optimizer.zero_grad(set_to_none=True)
            batch_loss.backward()
            optimizer.step()
            model_steps += 1
            if time.monotonic() >= stop:
                break
        epochs += 1
    model.eval()
    found: list[list[Box]] = []
    with torch.no_grad():
        for b in range(0, len(new_pixels), 4 * batch_size):
            x = torch.as_tensor(new_pixels[b:b + 4 * batch_size], device=device).float() / 255
            found += decode(model(x), new_sizes[b:b + 4 * batch_size], classes)
    return found, {"epochs": epochs, "steps": model_steps}
