"""A node's folder as the agent sees it: what a candidate may read, and what it left, read as untrusted.

The candidate writes its folder in its own process, so everything read back is bounded in size,
checked field by field, and never an exception in the agent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from agent.sandbox import read_node_file
from pipelines.rundata import RunData

MAX_RESULT_BYTES = 1 << 20
MAX_LOG_TAIL_BYTES = 64 << 10
NODE_FILES = ("log.txt", "result.json", "submission.csv", "oof.npy", "test.npy", "standalone.py")  # what the agent reads

STANDALONE_HEADER = '''# Node {node_id} of a kagglewright run: `python standalone.py`, from any folder, reruns it on the run's data.
try:
    import pipelines  # noqa: F401  (the harness the solution runs under)
except ImportError:
    raise SystemExit("standalone.py needs the kagglewright package: pip install kagglewright "
                     "(or run it with the Python that made the run)") from None
'''

STANDALONE_FOOTER = '''

if __name__ == "__main__":
    # The same data, folds, seed and parameters the agent used, from the run folder this file is in
    # (wherever it has moved). Writes submission.csv into the current folder and prints the CV score.
    from pipelines.standalone import reproduce

    reproduce(__file__, params={params!r}, seed={seed!r}, refit={refit!r})
'''


def submitted_node(run: RunFolder, journal: Journal, greater_is_better: bool) -> Node | None:
    """The node whose submission the run's is (best/node.json, which the search writes last when it
    installs one), else the best by score."""
    installed = read_json(run.best_dir / "node.json").get("id")
    return journal.nodes.get(installed) if installed in journal.nodes else journal.best(greater_is_better)


def prepared_inputs(run: RunFolder, data: RunData) -> list[Path]:
    """What every candidate of the run may read: the prepared tables and spec, and the folders of the
    files the tables name (images, audio), or those files one by one where their folder also holds
    something named private; never the competition folder around them."""
    files = {Path(p) for column in data.train.columns if column.endswith("__path")
             for frame in (data.train, data.test) if column in frame for p in frame[column].dropna().unique() if p}
    folders = {f.parent for f in files}
    beside_private = {d for d in folders if d.is_dir() and any(c.name.lower() == "private" for c in d.iterdir())}
    return [run.path / "data", run.path / "spec.json", *sorted(folders - beside_private),
            *sorted(f for f in files if f.parent in beside_private)]


def node_storage(node_dir: Path) -> str:
    """A tuning node's Optuna study lives in its own folder, the only place it may write."""
    return f"sqlite:///{node_dir / 'optuna.db'}"


def max_submission_bytes(sample: pd.DataFrame, answer_shape: str = "rows") -> int:
    """A generous bound on a valid submission's size: the sample's rows, each at most 4 KB per column (64 KB
    for boxes: a cell holds every box found in its image)."""
    cell = 65536 if answer_shape == "boxes" else 4096
    return cell * (len(sample) + 1) * max(1, len(sample.columns))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object the agent wrote, or {} when it is missing or torn."""
    try:
        value = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def read_result(node_dir: Path) -> dict[str, Any]:
    """result.json as the candidate's process wrote it, checked field by field: anything malformed
    makes it a failed result, never an exception in the agent or a foreign object in the journal."""
    try:
        raw = json.loads(read_node_file(node_dir / "result.json", MAX_RESULT_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {"status": "failed", "error": "result.json is not an object"}
    peak = raw.get("peak_rss_mb")
    base = {"peak_rss_mb": float(peak) if _finite(peak) else 0.0}
    if raw.get("status") != "ok":
        return {**base, "status": "failed", "error": str(raw.get("error") or "failed")[:2000]}
    scores = raw.get("fold_scores")
    if not (_finite(raw.get("score")) and isinstance(scores, list) and all(_finite(v) for v in scores)
            and isinstance(raw.get("params", {}), dict) and isinstance(raw.get("facts", {}), dict)):
        return {**base, "status": "failed", "error": "result.json has no finite score, fold scores and parameters"}
    return {**base, "status": "ok", "score": float(raw["score"]), "fold_scores": [float(v) for v in scores],
            "params": raw.get("params", {}), "facts": raw.get("facts", {})}


def log_tail(node_dir: Path, lines: int = 1) -> str:
    """The last lines of a node's log, bounded, in one line."""
    try:
        with open(node_dir / "log.txt", "rb") as f:
            f.seek(max(0, f.seek(0, 2) - MAX_LOG_TAIL_BYTES))
            text = f.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(text[-lines:])[:500] if text else "no output"


def write_standalone(node_dir: Path, node_id: str, params: dict[str, Any], seed: int, refit: bool) -> None:
    """standalone.py: the node's solution with a check for the package first and a main that reruns it."""
    lines = (node_dir / "solution.py").read_text().splitlines(keepends=True)
    # The package check goes first, after any `from __future__` line (which must lead the file).
    future = max((i + 1 for i, line in enumerate(lines) if line.startswith("from __future__")), default=0)
    header = STANDALONE_HEADER.format(node_id=node_id)
    footer = STANDALONE_FOOTER.format(params=params, seed=seed, refit=refit)
    (node_dir / "standalone.py").write_text("".join(lines[:future]) + header + "".join(lines[future:]) + footer)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
