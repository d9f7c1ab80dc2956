"""Reading a large train table: the whole file (`read_table`) against the streamed sample a run takes
(`read_table_sample`, max_train_rows). Prints seconds and peak memory of each, read in a fresh process.

    python benchmarks/large_table.py --rows 10000000 --sample 500000

The table is generated (numbers, a category, a timestamp string) into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

READ = """
import json, resource, sys, time
from pipelines.tables import read_table, read_table_sample
path, mode, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
rows = len(read_table(path)) if mode == "whole" else read_table_sample(path, sample)[1]
print(json.dumps({"mode": mode, "rows": rows, "seconds": round(time.perf_counter() - start, 1),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def write_table(path: Path, rows: int, chunk: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        pd.DataFrame({
            "id": np.arange(start, start + n),
            **{f"x{i}": rng.normal(size=n).round(4) for i in range(5)},
            "shop": rng.choice(["north", "south", "east", "west"], n),
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
            "target": rng.normal(size=n).round(3),
        }).to_csv(path, mode="a", header=start == 0, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=500_000)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.csv"
        write_table(path, args.rows)
        print(json.dumps({"file_mb": round(path.stat().st_size / 2**20), "rows": args.rows}))
        for mode in ("sample", "whole"):
            subprocess.run([sys.executable, "-c", READ, str(path), mode, str(args.sample)], cwd=root, check=True)


if __name__ == "__main__":
    main()
