"""What a tuning of a recipe earns on a run's data: Optuna for a fixed time on the run's folds, then the
recipe's PARAMS and the best trial's parameters scored on fresh splits of the same rows, where the
tuning never looked.

    python benchmarks/tuning_start.py RUN_DIR --recipe lightgbm_tabular --seconds 120 --splits 3

RUN_DIR is a run folder of `agent compete` (its data, spec and folds; a short run makes one). The
recipe's switches are as the recipe file has them unless `--switch NAME` turns one on (the run's
cache is used, so auxiliary predictions are fitted once); `--without-starting-points` tunes from
PARAMS alone. Runs in this process (no sandbox) with the machine's cores, and prints one JSON line
per recipe: trials, the best trial's score on the tuning folds, the mean score of PARAMS and of the
best parameters over the fresh splits, and their difference in the metric's direction (positive:
tuning helped).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from pipelines.context import Context
from pipelines.folds import make_folds
from pipelines.harness import cross_validate, load_solution, tune
from pipelines.metrics import get_metric
from pipelines.rundata import RunData
from switch_gain import RECIPES, with_switch


def recipe_code(recipe: str, switches: list[str]) -> str:
    code = (RECIPES / f"{recipe}.py").read_text()
    for switch in switches:
        code = with_switch(code, switch, True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--recipe", action="append", default=None)
    parser.add_argument("--switch", action="append", default=[])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--without-starting-points", action="store_true", help="tune from PARAMS alone")
    args = parser.parse_args()
    data = RunData.load(args.run_dir)
    sign = 1 if get_metric(data.spec.metric).greater_is_better else -1
    n_folds = int(data.folds.max()) + 1
    ctx = Context(spec=data.spec, seed=args.seed, n_jobs=os.cpu_count() or 1, workdir=Path.cwd(),
                  cache_dir=args.run_dir / "cache")
    fresh = [make_folds(data.train, data.spec, n_folds, seed=1000 + i) for i in range(args.splits)]
    with tempfile.TemporaryDirectory() as scratch:
        for recipe in args.recipe or ["lightgbm_tabular"]:
            path = Path(scratch) / f"{recipe}.py"
            code = recipe_code(recipe, args.switch)
            path.write_text(code + "\nSTARTING_POINTS = []\n" if args.without_starting_points else code)
            solution = load_solution(path)
            started = time.perf_counter()
            best, study = tune(solution, data.train, data.test, data.folds, ctx, timeout=args.seconds,
                               study_name=f"{recipe}-{time.time_ns()}")
            seconds = time.perf_counter() - started
            scores = {name: [cross_validate(solution, data.train, data.test, folds, ctx, params).score
                             for folds in fresh]
                      for name, params in (("params", {}), ("tuned", best.params))}
            gain = sign * float(np.mean(scores["tuned"]) - np.mean(scores["params"]))
            print(json.dumps({"recipe": recipe, "starting_points": not args.without_starting_points,
                              "trials": len(study.trials), "seconds": round(seconds, 1),
                              "tuning_folds_best": round(best.score, 5),
                              "fresh_params": round(float(np.mean(scores["params"])), 5),
                              "fresh_tuned": round(float(np.mean(scores["tuned"])), 5),
                              "fresh_gain": round(gain, 5),
                              "best_params": {k: round(v, 4) if isinstance(v, float) else v
                                              for k, v in best.params.items()}}), flush=True)


if __name__ == "__main__":
    main()
