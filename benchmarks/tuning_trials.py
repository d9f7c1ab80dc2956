"""Optuna tuning of the LightGBM recipe on a generated regression: trials finished in a fixed time,
with a small and with a large test table. Shows what predicting the test rows costs a tuning run.

    python benchmarks/tuning_trials.py --train 20000 --test 2000 --test 200000 --seconds 60

Each setting runs `pipelines.harness.tune` in a fresh process (5 folds, the machine's cores) and
prints one JSON line: trials started, seconds, and the best score.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

TUNE = """
import json, os, sys, time
import numpy as np, pandas as pd
from pipelines.context import Context
from pipelines.harness import load_solution, tune
from pipelines.spec import CompetitionSpec
n_train, n_test, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(0)
n = n_train + n_test
frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(10)})
frame["shop"] = rng.choice(["north", "south", "east", "west"], n)
frame["y"] = frame.x0 * 2 + np.sin(frame.x1 * 3) + frame.x2 * frame.x3 + (frame.shop == "east") + rng.normal(0, 0.5, n)
frame.insert(0, "id", np.arange(n))
train, test = frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].drop(columns="y").reset_index(drop=True)
spec = CompetitionSpec(slug="generated", data_dir=".", train_file="train.csv", test_file="test.csv",
                       sample_submission_file="sample.csv", id_column="id", target_columns=["y"], task="regression",
                       submission_columns=["y"], submission_kind="value", metric="rmse", direction="minimize",
                       numeric_columns=[f"x{i}" for i in range(10)], categorical_columns=["shop"])
ctx = Context(spec=spec, n_jobs=os.cpu_count() or 1)
solution = load_solution(sys.argv[4])
start = time.perf_counter()
result, study = tune(solution, train, test, np.arange(n_train) % 5, ctx, timeout=seconds)
print(json.dumps({"train_rows": n_train, "test_rows": n_test, "trials": len(study.trials),
                  "seconds": round(time.perf_counter() - start, 1), "best_rmse": round(result.score, 4)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--test", type=int, action="append", help="test rows (repeatable; default 2000 and 200000)")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    recipe = root / "agent" / "recipes" / "lightgbm_tabular.py"
    for n_test in args.test or [2_000, 200_000]:
        subprocess.run([sys.executable, "-c", TUNE, str(args.train), str(n_test), str(args.seconds), str(recipe)],
                       cwd=root, check=True)


if __name__ == "__main__":
    main()
