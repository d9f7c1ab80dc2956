#!/usr/bin/env python3
"""Two offline image competitions in the MLE-bench layout, for measuring the image recipes without internet.

    python benchmarks/image_datasets.py <out_dir>

- `digits-images`: scikit-learn's handwritten digits (1,797 real 8x8 grayscale scans, 10 classes) as PNG
  files in train.zip / test.zip, named by bare ids (`17` -> `train/17.png`), metric accuracy.
- `shapes-images`: 4,000 generated 32x32 colour images of four shapes (disc, square, triangle, ring) of
  random size, place and colour on noisy, cluttered backgrounds, in train/ and test/ folders, named by
  file name (`a1b2c3.png`, as aerial-cactus-identification does), metric accuracy.

Each gets public/{train.csv, sample_submission.csv, images}, private/answers.csv and a competition.yaml
that /work/shared/competitions/grade.py (or any grader reading those keys) understands, plus the
accuracy of logistic regression on the raw pixels as a reference.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _write(root: Path, slug: str, ids: list[str], labels: np.ndarray, images: list[bytes], *, zipped: bool,
           suffix_in_id: bool, seed: int = 0) -> None:
    public, private = root / slug / "public", root / slug / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    train_rows, test_rows = train_test_split(np.arange(len(ids)), test_size=0.25, random_state=seed, stratify=labels)
    shown = [f"{i}.png" if suffix_in_id else i for i in ids]
    for split, rows in (("train", train_rows), ("test", test_rows)):
        files = {f"{split}/{ids[r]}.png": images[r] for r in rows}
        if zipped:
            with zipfile.ZipFile(public / f"{split}.zip", "w") as archive:
                for name, data in files.items():
                    archive.writestr(name, data)
        else:
            (public / split).mkdir(exist_ok=True)
            for name, data in files.items():
                (public / name).write_bytes(data)
    pd.DataFrame({"id": [shown[r] for r in train_rows], "label": labels[train_rows]}).to_csv(public / "train.csv", index=False)
    pd.DataFrame({"id": [shown[r] for r in test_rows], "label": labels[train_rows][0]}).to_csv(
        public / "sample_submission.csv", index=False)
    pd.DataFrame({"id": [shown[r] for r in test_rows], "label": labels[test_rows]}).to_csv(private / "answers.csv", index=False)
    (root / slug / "competition.yaml").write_text(
        f"id: {slug}\nmetric: accuracy\ndirection: maximize\nid_column: id\ntarget_column: label\n"
        f"answers: private/answers.csv\n")


def _pixel_baseline(pixels: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Accuracy of logistic regression on the raw pixels, on the same split."""
    rows = np.arange(len(labels))
    train_rows, test_rows = train_test_split(rows, test_size=0.25, random_state=seed, stratify=labels)
    X = pixels.reshape(len(pixels), -1).astype(np.float32) / 255
    model = LogisticRegression(max_iter=2000).fit(X[train_rows], labels[train_rows])
    return float((model.predict(X[test_rows]) == labels[test_rows]).mean())


def digits(root: Path) -> float:
    data = load_digits()
    pixels = (data.images * (255 / 16)).round().astype(np.uint8)
    ids = [str(i) for i in range(len(pixels))]
    _write(root, "digits-images", ids, data.target, [_png(p) for p in pixels], zipped=True, suffix_in_id=False)
    return _pixel_baseline(pixels, data.target)


def _shape(draw: ImageDraw.ImageDraw, kind: int, box: tuple[float, float, float, float], colour: tuple[int, ...]) -> None:
    x0, y0, x1, y1 = box
    if kind == 0:
        draw.ellipse(box, fill=colour)
    elif kind == 1:
        draw.rectangle(box, fill=colour)
    elif kind == 2:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=colour)
    else:
        draw.ellipse(box, outline=colour, width=max(2, int((x1 - x0) / 5)))


def shapes(root: Path, n: int = 4000, side: int = 32, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    rng.shuffle(labels)
    arrays = []
    for label in labels:
        image = Image.fromarray(rng.normal(rng.uniform(60, 190), 25, (side, side, 3)).clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.integers(0, 3)):  # clutter: small blobs of any colour
            x, y, r = *rng.uniform(0, side, 2), rng.uniform(1.5, 3.5)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        size = rng.uniform(0.35, 0.7) * side
        x0, y0 = rng.uniform(0, side - size, 2)
        _shape(draw, int(label), (x0, y0, x0 + size, y0 + size), tuple(int(v) for v in rng.integers(0, 256, 3)))
        arrays.append(np.asarray(image))
    pixels = np.stack(arrays)
    ids = [f"{rng.integers(16**8):08x}{i:04d}" for i in range(n)]
    _write(root, "shapes-images", ids, labels, [_png(p) for p in pixels], zipped=False, suffix_in_id=True)
    return _pixel_baseline(pixels, labels)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "data/image-benchmarks")
    print(f"digits-images: logistic regression on pixels, accuracy {digits(out):.4f}")
    print(f"shapes-images: logistic regression on pixels, accuracy {shapes(out):.4f}")
    print(f"written to {out}")
