"""What one feature switch of a recipe is worth on a competition, on the run's own folds.

    python benchmarks/switch_gain.py RUN_DIR AUXILIARY_TARGETS --recipe lightgbm_tabular --recipe xgboost_tabular

RUN_DIR is a run folder of `agent compete` (its data, spec and folds; a short run makes one). Each
recipe is cross-validated twice, switch off and on, with `pipelines.standalone.reproduce`, in this
process (no sandbox, so the seconds are lower than a node's), and one JSON line per recipe gives
both scores, the gain in the metric's direction, and the seconds of each. The run's cache is used
and filled, so "on" after a first recipe shows what sharing a cached block saves.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

from pipelines.metrics import get_metric
from pipelines.rundata import RunData
from pipelines.standalone import reproduce

RECIPES = Path(__file__).resolve().parent.parent / "agent" / "recipes"


def with_switch(code: str, switch: str, on: bool) -> str:
    edited, found = re.subn(rf"^{switch} = (True|False)", f"{switch} = {on}", code, flags=re.M)
    if not found:
        raise SystemExit(f"the recipe has no switch {switch}")
    return edited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("switch")
    parser.add_argument("--recipe", action="append", default=None)
    args = parser.parse_args()
    spec = RunData.load(args.run_dir).spec
    sign = 1 if get_metric(spec.metric).greater_is_better else -1
    with tempfile.TemporaryDirectory() as scratch:
        for recipe in args.recipe or ["lightgbm_tabular"]:
            code = (RECIPES / f"{recipe}.py").read_text()
            row: dict = {"recipe": recipe, "switch": args.switch}
            for on in (False, True):
                solution = Path(scratch) / f"{recipe}_{on}.py"
                solution.write_text(with_switch(code, args.switch, on))
                started = time.perf_counter()
                score = reproduce(str(solution), {}, run_dir=args.run_dir, out=str(Path(scratch) / "submission.csv"))
                row[f"cv_{'on' if on else 'off'}"] = round(score, 5)
                row[f"seconds_{'on' if on else 'off'}"] = round(time.perf_counter() - started, 1)
            row["gain"] = round(sign * (row["cv_on"] - row["cv_off"]), 5)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
