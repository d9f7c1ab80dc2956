"""Two layouts at the size of the real competitions, to check that a run fits memory and time there:
ml2021spring-hw2's arrays (778k x 429 float32 train frames, 452k test frames, 39 classes) and
nfl-player-contact's tables (the miniature's plays repeated under new ids: 2.8M label rows, 945k test rows,
tracking and helmet tables split into train_ and test_ halves).

    python benchmarks/real_size.py --layout arrays --out /tmp/real-size --budget 300
    python benchmarks/real_size.py --layout pairs --out /tmp/real-size --budget 600

Prints the grade, the run's wall time and the peak memory of its processes (the agent and its candidates).
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
from unseen_layouts import LAYOUTS  # noqa: E402

ARRAY_ROWS, ARRAY_TEST_ROWS, ARRAY_WIDTH, PHONEMES = 778_380, 451_552, 429, 39
PLAY_COPIES = 100


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


BUILDERS = {"arrays": ("ml2021spring-hw2", arrays), "pairs": ("nfl-player-contact-detection", pairs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", choices=sorted(BUILDERS), required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/real-size"))
    parser.add_argument("--budget", type=float, default=600.0)
    args = parser.parse_args(argv)
    slug, build = BUILDERS[args.layout]
    folder, run = args.out / slug, args.out / "runs" / slug
    if not (folder / "private" / "answers.csv").exists():
        shutil.rmtree(folder, ignore_errors=True)
        build(folder, np.random.default_rng(0))
    shutil.rmtree(run, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "agent.cli", "compete", str(folder / "public"), "--time-budget",
                           str(args.budget), "--no-submit", "--run-dir", str(run)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    report = grade_submission(folder, run / "submission.csv") if (run / "submission.csv").exists() else None
    print(done.stdout[-1500:])
    print(json.dumps({"layout": slug, "budget": args.budget, "valid": report and report.valid,
                      "score": report and report.score, "seconds": round(seconds, 1),
                      "peak_memory_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
                      "rc": done.returncode}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
