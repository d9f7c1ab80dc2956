#!/usr/bin/env python3
"""The GPU paths against the CPU: tree models through `pipelines.models.GBDT`, the GBDT recipes
cross-validated as a run does it, and sentence embeddings.

    python benchmarks/gpu_paths.py --rows 200000 --texts ../shared/competitions/nlp-getting-started/public/train.csv
    python benchmarks/gpu_paths.py --recipes 400000
    python benchmarks/gpu_paths.py --finetune ../shared/competitions/nlp-getting-started/public --seconds 300

Trees: a generated binary task (40 numbers, two categories, interactions and noise) with `--rows`
training rows and 50,000 held-out rows; each library fits once with early stopping on the CPU with
all cores and once with the GPU asked for, and prints seconds, trees kept, held-out AUC and the
device the fitted model used (a GPU build that cannot start falls back to the CPU, which shows there).
Embeddings (with `--texts`, a CSV with a `text` column, and the `text` extra installed): texts per
second of the bundled model on the GPU after a warm-up, and the least cosine between GPU and CPU
vectors of the same texts.
Recipes (with `--recipes ROWS`, instead of the rest): the same kind of table with ROWS training rows
and 100,000 test rows, read as a run reads it (`prepare_run`: spec, 3 folds), and the XGBoost and
CatBoost recipes cross-validated with their draft parameters, folds in parallel threads, once with
the GPU and once on the CPU: seconds, CV AUC, the GPU's busiest second and whether the library fell
back to the CPU. Fine-tuning (with `--finetune FOLDER`, a competition's public folder with text
columns, instead of the rest): the `text_finetune` recipe cross-validated as a run does it, with
`--seconds` of time, on the GPU and on the CPU: seconds, CV score, the blocks trained, the precision
and the epochs each fold reached. Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pipelines.device import detect_device
from pipelines.models import GBDT


def tree_task(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, 40)).astype(np.float32), columns=[f"x{i}" for i in range(40)])
    X["c1"] = pd.Categorical(rng.integers(0, 30, rows).astype(str))
    X["c2"] = pd.Categorical(rng.integers(0, 5, rows).astype(str))
    logit = X.x0 * X.x1 + np.sin(X.x2 * 2) + 0.5 * X.x3 - 0.3 * X.x4 ** 2 + (X.c1.cat.codes % 7 - 3) * 0.3
    return X, (logit + rng.normal(size=rows) > 0).astype(int).to_numpy()


def trees(rows: int, n_jobs: int) -> None:
    X, y = tree_task(rows + 50_000)
    train, held_out = slice(0, rows), slice(rows, None)
    for library in ("lightgbm", "xgboost", "catboost"):
        for device in ("cpu", "cuda"):
            start = time.perf_counter()
            model = GBDT(library, True, n_estimators=2000, early_stopping_rounds=100, device=device, n_jobs=n_jobs)
            model.fit(X.iloc[train], y[train])
            auc = roc_auc_score(y[held_out], model.predict_proba(X.iloc[held_out])[:, 1])
            params = model.model_.get_params()
            used = params.get("device") or params.get("task_type") or "cpu"
            print(json.dumps({"library": library, "asked": device, "used": str(used).lower(), "rows": rows, "n_jobs": n_jobs,
                              "seconds": round(time.perf_counter() - start, 1), "trees": model.n_trees_, "auc": round(auc, 5)}),
                  flush=True)


def embeddings(path: str, n_jobs: int) -> None:
    import torch

    from pipelines.embeddings import encode, resolve_model

    texts = pd.read_csv(path)["text"].astype(str).tolist()
    model = resolve_model()
    encode(texts[:512], model, "cuda", n_jobs)  # loads the weights and warms the kernels up
    for copies in (1, 4):
        batch = texts * copies
        torch.cuda.synchronize()
        start = time.perf_counter()
        gpu = encode(batch, model, "cuda", n_jobs)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        print(json.dumps({"texts": len(batch), "seconds": round(seconds, 2), "texts_per_second": round(len(batch) / seconds)}),
              flush=True)
    cpu = encode(texts[:256], model, "cpu", n_jobs)
    print(json.dumps({"least_cosine_gpu_cpu": round(float((gpu[:256] * cpu).sum(axis=1).min()), 5)}))


def gpu_busy(stop: threading.Event, samples: list[int]) -> None:
    """Append the GPU's utilisation (%) twice a second until `stop` is set."""
    while not stop.wait(0.5):
        read = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True)
        if read.returncode == 0 and read.stdout.strip():
            samples.append(int(read.stdout.split()[0]))


def recipes(rows: int, n_jobs: int) -> None:
    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder
    from pipelines import models
    from pipelines.context import Context
    from pipelines.harness import cross_validate, load_solution

    recipe_folder = Path(__file__).resolve().parent.parent / "agent" / "recipes"
    with tempfile.TemporaryDirectory() as tmp:
        public = Path(tmp) / "large-trees" / "public"
        public.mkdir(parents=True)
        X, y = tree_task(rows + 100_000, seed=1)
        X.insert(0, "id", np.arange(len(X)))
        X.iloc[:rows].assign(target=y[:rows]).to_csv(public / "train.csv", index=False)
        X.iloc[rows:].to_csv(public / "test.csv", index=False)
        X.iloc[rows:][["id"]].assign(target=0.5).to_csv(public / "sample_submission.csv", index=False)
        settings = Settings(max_train_rows=0, n_jobs=n_jobs, competitions_root=Path(tmp) / "competitions")
        data = prepare_run(public, "large-trees", RunFolder(Path(tmp) / "run"), settings, {"metric": "auc"})
        for recipe in ("xgboost_tabular", "catboost_tabular"):
            for device in ("cuda", "cpu"):
                ctx = Context(spec=data.spec, device=device, n_jobs=n_jobs, workdir=Path(tmp))
                stop, samples = threading.Event(), []
                watcher = threading.Thread(target=gpu_busy, args=(stop, samples), daemon=True)
                watcher.start()
                start = time.perf_counter()
                result = cross_validate(load_solution(recipe_folder / f"{recipe}.py"), data.train, data.test,
                                        data.folds, ctx)
                stop.set()
                print(json.dumps({"recipe": recipe, "device": device, "rows": len(data.train),
                                  "folds": int(data.folds.max()) + 1, "seconds": round(time.perf_counter() - start, 1),
                                  "cv_auc": round(result.score, 5), "gpu_busiest_percent": max(samples, default=None),
                                  "gpu_failed": sorted(models._GPU_FAILED)}), flush=True)


def finetune(public: Path, n_jobs: int, seconds: float) -> None:
    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder
    from pipelines.context import Context
    from pipelines.harness import cross_validate, load_solution

    recipe = Path(__file__).resolve().parent.parent / "agent" / "recipes" / "text_finetune.py"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(n_jobs=n_jobs, competitions_root=Path(tmp) / "competitions")
        data = prepare_run(public, public.parent.name, RunFolder(Path(tmp) / "run"), settings, {})
        for device in ("cuda", "cpu"):
            ctx = Context(spec=data.spec, device=device, n_jobs=n_jobs, workdir=Path(tmp),
                          deadline=time.monotonic() + seconds)
            start = time.perf_counter()
            line = {"recipe": "text_finetune", "asked": device, "rows": len(data.train), "metric": data.spec.metric}
            try:
                result = cross_validate(load_solution(recipe), data.train, data.test, data.folds, ctx)
            except RuntimeError as exc:  # e.g. no size of the model fits the time on this device
                print(json.dumps({**line, "error": str(exc)}), flush=True)
                continue
            keep = ("device", "precision", "max_length", "trained_blocks", "n_layers", "epochs", "setup_seconds")
            print(json.dumps({**line, "cv": round(result.score, 5), "seconds": round(time.perf_counter() - start, 1),
                              **{k: result.facts.get(k) for k in keep}}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--texts", help="CSV with a `text` column, for the embeddings' throughput")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--recipes", type=int, metavar="ROWS", help="only the recipes' cross-validation, on ROWS rows")
    parser.add_argument("--finetune", type=Path, metavar="FOLDER", help="only the text fine-tune, on this competition")
    parser.add_argument("--seconds", type=float, default=300.0, help="the fine-tune's time on each device")
    args = parser.parse_args()
    print(json.dumps({"device": detect_device(), "cores": args.n_jobs}))
    if args.finetune:
        finetune(args.finetune, args.n_jobs, args.seconds)
        return
    if args.recipes:
        recipes(args.recipes, args.n_jobs)
        return
    trees(args.rows, args.n_jobs)
    if args.texts and detect_device() == "cuda":
        embeddings(args.texts, args.n_jobs)


if __name__ == "__main__":
    main()
