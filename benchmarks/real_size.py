"""Layouts at the size of the real competitions, to check that a run fits memory and time there:
ml2021spring-hw2's arrays (778k x 429 float32 train frames, 452k test frames, 39 classes),
nfl-player-contact's tables (the miniature's plays repeated under new ids: 2.8M label rows, 945k test rows,
tracking and helmet tables split into train_ and test_ halves), ventilator-pressure-prediction's
sequences (75,450 train breaths and 50,300 test breaths of 80 steps: 6.0M and 4.0M rows) and
histopathologic-cancer-detection's patches (220,025 train and 57,458 test TIFFs of 96 x 96).

    python benchmarks/real_size.py --layout arrays --out /tmp/real-size --budget 300
    python benchmarks/real_size.py --layout pairs --out /tmp/real-size --budget 600
    python benchmarks/real_size.py --layout sequences --out /tmp/real-size --budget 600
    python benchmarks/real_size.py --layout images --out /tmp/real-size --budget 600
    python benchmarks/real_size.py --layout pairs --out /tmp/real-size --prepare-only

Prints the grade, the run's wall time and the peak memory of its processes (the agent and its candidates);
with --prepare-only, the seconds that reading the files and deciding the spec take (`prepare_run`).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent.grading import grade_submission  # noqa: E402
from layout_kit import hex_ids, split  # noqa: E402
from lite_layouts import _blobs  # noqa: E402
from unseen_layouts import LAYOUTS  # noqa: E402

ARRAY_ROWS, ARRAY_TEST_ROWS, ARRAY_WIDTH, PHONEMES = 778_380, 451_552, 429, 39
PLAY_COPIES = 100
TRAIN_BREATHS, TEST_BREATHS, STEPS = 75_450, 50_300, 80
TRAIN_PATCHES, TEST_PATCHES, PATCH_SIDE, PATCH_POOL = 220_025, 57_458, 96, 4000


def arrays(folder: Path, rng: np.random.Generator) -> None:
    """Frames whose class moves their mean, written in chunks (the train array alone is 1.3 GB)."""
    root = folder / "public" / "timit_11" / "timit_11"
    root.mkdir(parents=True)
    (folder / "private").mkdir()
    means = rng.normal(0, 1, (PHONEMES, ARRAY_WIDTH)).astype(np.float32)
    for name, n in (("train_11", ARRAY_ROWS), ("test_11", ARRAY_TEST_ROWS)):
        labels = rng.integers(0, PHONEMES, n)
        frames = np.lib.format.open_memmap(root / f"{name}.npy", mode="w+", dtype=np.float32, shape=(n, ARRAY_WIDTH))
        for start in range(0, n, 100_000):
            end = min(n, start + 100_000)
            frames[start:end] = means[labels[start:end]] + rng.normal(0, 3, (end - start, ARRAY_WIDTH))
        frames.flush()
        if name == "train_11":
            np.save(root / "train_label_11.npy", labels.astype(str))
        else:
            answers = pd.DataFrame({"Id": range(n), "ClassId": labels.astype(str)})
            answers.to_csv(folder / "private" / "answers.csv", index=False)
            answers.assign(ClassId=0).to_csv(folder / "public" / "sampleSubmission.csv", index=False)


def pairs(folder: Path, rng: np.random.Generator) -> None:
    """The nfl miniature, each play repeated PLAY_COPIES times under a new game key."""
    small = folder.parent / "nfl-miniature"
    if not (small / "private" / "answers.csv").exists():
        shutil.rmtree(small, ignore_errors=True)
        answers = LAYOUTS["nfl-player-contact-detection"][2](small / "public", rng)
        (small / "private").mkdir(parents=True)
        answers.to_csv(small / "private" / "answers.csv", index=False)
    (folder / "public").mkdir(parents=True)
    (folder / "private").mkdir()
    renamed = lambda s, k: s.str.replace(r"^(\d+)_", lambda m: f"{int(m.group(1)) + 1000 * k}_", regex=True)  # noqa: E731
    for path in [*sorted((small / "public").glob("*.csv")), small / "private" / "answers.csv"]:
        frame = pd.read_csv(path, dtype={"nfl_player_id_2": str})
        copies = []
        for k in range(PLAY_COPIES):
            copy = frame.copy()
            for column in ("game_play", "contact_id"):
                if column in copy:
                    copy[column] = renamed(copy[column], k)
            if "game_key" in copy:
                copy["game_key"] += 1000 * k
            copies.append(copy)
        target = folder / ("private" if path.parent.name == "private" else "public") / path.name
        pd.concat(copies, ignore_index=True).to_csv(target, index=False)


def sequences(folder: Path, rng: np.random.Generator) -> None:
    """The ventilator miniature's breaths (pressure integrates the inflow), drawn all at once."""
    n = TRAIN_BREATHS + TEST_BREATHS
    R, C = rng.choice([5, 20, 50], n)[:, None], rng.choice([10, 20, 50], n)[:, None]
    t = np.cumsum(np.c_[np.zeros(n), rng.uniform(0.031, 0.035, (n, STEPS - 1))], axis=1)
    u_out = (t > 1.0).astype(int)
    walk = rng.normal(10, 8, (n, 1)) + np.cumsum(rng.normal(0, 2, (n, STEPS)), axis=1)
    u_in = np.where(u_out == 1, rng.uniform(0, 5, (n, STEPS)), np.clip(walk, 0, 100))
    volume = np.cumsum(u_in * np.c_[np.zeros(n), np.diff(t, axis=1)] * (1 - u_out), axis=1)
    pressure = 5 + volume / C * 3 + R * u_in / 40 * (1 - u_out) + rng.normal(0, 0.2, (n, STEPS))
    frame = pd.DataFrame({"id": np.arange(1, n * STEPS + 1), "breath_id": np.repeat(np.arange(1, n + 1), STEPS),
                          "R": np.repeat(R[:, 0], STEPS), "C": np.repeat(C[:, 0], STEPS), "time_step": t.ravel(),
                          "u_in": u_in.ravel(), "u_out": u_out.ravel(), "pressure": pressure.ravel()})
    (folder / "private").mkdir(parents=True)
    answers = split(frame, TRAIN_BREATHS * STEPS, folder / "public", "id", ["pressure"], {"pressure": 0.0})
    answers.to_csv(folder / "private" / "answers.csv", index=False)


def patches(folder: Path, rng: np.random.Generator) -> None:
    """The histopathologic miniature's tissue at full size: a pool of PATCH_POOL patches (a positive one has
    more nuclei in its centre), each file one of them turned, flipped and given fresh noise."""
    from PIL import Image

    pool, labels = [], (rng.random(PATCH_POOL) < 0.4).astype(int)
    for label in labels:
        pixels = rng.normal(0, 15, (PATCH_SIDE, PATCH_SIDE, 3)) + np.array([230, 170, 210]) * rng.uniform(0.8, 1.1)
        _blobs(rng, PATCH_SIDE, int(rng.integers(12, 30)), [120, 60, 140], 3.5, pixels)
        if label:
            _blobs(rng, 32, int(rng.integers(2, 6)), [120, 60, 140], 3.5, pixels[32:64, 32:64])
        pool.append(pixels)
    n = TRAIN_PATCHES + TEST_PATCHES
    ids, which = hex_ids(rng, n, 40), rng.integers(0, PATCH_POOL, n)
    for part in ("train", "test", "private"):
        (folder / ("" if part == "private" else "public") / part).mkdir(parents=True, exist_ok=True)
    for i, (name, k) in enumerate(zip(ids, which)):
        pixels = np.rot90(pool[k], int(rng.integers(0, 4)))[:, :: 1 - 2 * int(rng.integers(0, 2))]
        pixels = np.clip(pixels + rng.normal(0, 4, pixels.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / "public" / ("train" if i < TRAIN_PATCHES else "test") / f"{name}.tif")
    frame = pd.DataFrame({"id": ids, "label": labels[which]})
    frame.iloc[:TRAIN_PATCHES].to_csv(folder / "public" / "train_labels.csv", index=False)
    frame.iloc[TRAIN_PATCHES:].assign(label=0).to_csv(folder / "public" / "sample_submission.csv", index=False)
    frame.iloc[TRAIN_PATCHES:].to_csv(folder / "private" / "answers.csv", index=False)


BUILDERS = {"arrays": ("ml2021spring-hw2", arrays), "pairs": ("nfl-player-contact-detection", pairs),
            "sequences": ("ventilator-pressure-prediction", sequences),
            "images": ("histopathologic-cancer-detection", patches)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", choices=sorted(BUILDERS), required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/real-size"))
    parser.add_argument("--budget", type=float, default=600.0)
    parser.add_argument("--prepare-only", action="store_true", help="time reading the files, run nothing")
    args = parser.parse_args(argv)
    slug, build = BUILDERS[args.layout]
    folder, run = args.out / slug, args.out / "runs" / slug
    if not (folder / "private" / "answers.csv").exists():
        shutil.rmtree(folder, ignore_errors=True)
        build(folder, np.random.default_rng(0))
    shutil.rmtree(run, ignore_errors=True)
    if args.prepare_only:
        return _time_prepare(folder / "public", slug, run, args.budget)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "agent.cli", "compete", str(folder / "public"), "--time-budget",
                           str(args.budget), "--no-submit", "--run-dir", str(run)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    report = grade_submission(folder, run / "submission.csv") if (run / "submission.csv").exists() else None
    print(done.stdout[-1500:])
    print(done.stderr[-3000:])
    print(json.dumps({"layout": slug, "budget": args.budget, "valid": report and report.valid,
                      "score": report and report.score, "seconds": round(seconds, 1),
                      "peak_memory_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
                      "rc": done.returncode}))
    return 0


def _time_prepare(public: Path, slug: str, run: Path, budget: float) -> int:
    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder

    settings = Settings(time_budget=budget, competitions_root=run.parent / "competitions")
    started = time.perf_counter()
    data = prepare_run(public, slug, RunFolder(run), settings, {})
    print(json.dumps({"layout": slug, "budget": budget, "prepare_seconds": round(time.perf_counter() - started, 1),
                      "train_rows": len(data.train), "test_rows": len(data.test),
                      "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
