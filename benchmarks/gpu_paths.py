#!/usr/bin/env python3
"""The GPU paths against the CPU: tree models through `pipelines.models.GBDT`, and sentence embeddings.

    python benchmarks/gpu_paths.py --rows 200000 --texts ../shared/competitions/nlp-getting-started/public/train.csv

Trees: a generated binary task (40 numbers, two categories, interactions and noise) with `--rows`
training rows and 50,000 held-out rows; each library fits once with early stopping on the CPU with
all cores and once with the GPU asked for, and prints seconds, trees kept, held-out AUC and the
device the fitted model used (a GPU build that cannot start falls back to the CPU, which shows there).
Embeddings (with `--texts`, a CSV with a `text` column, and the `text` extra installed): texts per
second of the bundled model on the GPU after a warm-up, and the least cosine between GPU and CPU
vectors of the same texts. Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--texts", help="CSV with a `text` column, for the embeddings' throughput")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(json.dumps({"device": detect_device(), "cores": args.n_jobs}))
    trees(args.rows, args.n_jobs)
    if args.texts and detect_device() == "cuda":
        embeddings(args.texts, args.n_jobs)


if __name__ == "__main__":
    main()
