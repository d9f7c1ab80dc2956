"""The figures of the run report, each returned as a base64 PNG ready to inline in HTML.

Built on `matplotlib.figure.Figure` directly (no pyplot): no global state, no GUI backend, safe
to call from a long-running process. Every function takes plain data and returns None when
there is nothing to draw, so the report decides what to say instead.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Collection, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from agent.journal import Node

STEP_COLOURS = {"draft": "#1f77b4", "improve": "#2ca02c", "debug": "#ff7f0e", "tune": "#9467bd",
                "ensemble": "#e377c2"}
MAX_CLASSES_SHOWN = 20
MAX_BARS = 40
MAX_BOXES = 60
SCATTER_LIMIT = 20_000


def to_png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _step_legend(ax, steps: Collection[str], failed: bool) -> None:
    handles = [Line2D([], [], linestyle="", marker="o", color=STEP_COLOURS[s], label=s) for s in STEP_COLOURS
               if s in steps]
    if failed:
        handles.append(Line2D([], [], linestyle="", marker="x", color="black", label="failed"))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize=8, frameon=False)


MEDAL_COLOURS = {"gold": "#d4af37", "silver": "#8c8c8c", "bronze": "#cd7f32", "median": "#5b8db8"}


def progress(nodes: Sequence[Node], greater_is_better: bool, start: float, end: float,
             session_starts: Sequence[float] = (), cutoffs: dict[str, float] | None = None) -> str | None:
    """Best-so-far score over wall time, with every finished node as a point coloured by its step.

    A node counts when it finishes (start + seconds). Failed nodes have no score, so they sit as
    crosses on the bottom edge: a row of crosses is time lost to bugs. `cutoffs` (gold, silver,
    bronze, median) are drawn as dashed lines: where the CV score would land on the leaderboard.
    """
    finished = [n for n in nodes if n.status != "running"]
    if not finished:
        return None
    minutes = lambda t: (t - start) / 60  # noqa: E731
    done_at = {n.id: n.started_at + (n.seconds or 0.0) for n in finished}
    fig = Figure(figsize=(9, 4))
    ax = fig.add_subplot()
    good = sorted((n for n in finished if n.ok), key=lambda n: done_at[n.id])
    if good:
        times = [minutes(done_at[n.id]) for n in good]
        scores = np.array([n.score for n in good])
        best = np.maximum.accumulate(scores) if greater_is_better else np.minimum.accumulate(scores)
        ax.step([*times, max(minutes(end), times[-1])], [*best, best[-1]], where="post", color="grey",
                linewidth=1.5, label="best so far", zorder=1)
        ax.scatter(times, scores, c=[STEP_COLOURS[n.step] for n in good], s=40, zorder=2, edgecolors="white")
    failed = [n for n in finished if not n.ok]
    if failed:
        ax.scatter([minutes(done_at[n.id]) for n in failed], [0.02] * len(failed), marker="x", color="black",
                   transform=ax.get_xaxis_transform(), zorder=3, clip_on=False)
    for t in session_starts[1:]:
        ax.axvline(minutes(t), color="grey", linestyle=":", linewidth=1)
    for name, value in (cutoffs or {}).items():
        ax.axhline(value, color=MEDAL_COLOURS[name], linestyle="--", linewidth=1)
        ax.annotate(name, (1, value), xycoords=("axes fraction", "data"), xytext=(3, 0), textcoords="offset points",
                    color=MEDAL_COLOURS[name], fontsize=8, va="center")
    ax.margins(y=0.1)
    ax.set_xlim(0, max(minutes(end), *(minutes(t) for t in done_at.values()), 0.1) * 1.03)
    ax.set_xlabel("minutes since the run started")
    ax.set_ylabel("CV score" if good else "no scored node yet")
    if not good:
        ax.set_yticks([])
    ax.grid(alpha=0.3)
    _step_legend(ax, {n.step for n in good}, bool(failed))
    return to_png(fig)


def fold_spread(nodes: Sequence[Node]) -> str | None:
    """Each scored node's fold scores (box and points) and its out-of-fold score (diamond).

    A wide box means the CV score is noisy: a small gain over another node may not be real.
    """
    scored = [n for n in nodes if n.ok and n.fold_scores]
    if not scored:
        return None
    if len(scored) > MAX_BOXES:
        scored = scored[-MAX_BOXES:]
    fig = Figure(figsize=(min(18, max(6, 0.45 * len(scored) + 2)), 4))
    ax = fig.add_subplot()
    positions = np.arange(len(scored))
    ax.boxplot([n.fold_scores for n in scored], positions=positions, widths=0.6, showfliers=False,
               medianprops={"color": "grey"})
    rng = np.random.default_rng(0)
    for x, node in zip(positions, scored):
        jitter = rng.uniform(-0.12, 0.12, len(node.fold_scores))
        ax.scatter(x + jitter, node.fold_scores, s=12, color=STEP_COLOURS[node.step], alpha=0.8, zorder=2)
        ax.scatter([x], [node.score], marker="D", s=30, color="black", zorder=3)
    ax.set_xticks(positions, [n.id for n in scored], rotation=90 if len(scored) > 15 else 0, fontsize=8)
    ax.set_xlabel("node")
    ax.set_ylabel("fold score (box) · OOF score (◆)")
    ax.grid(axis="y", alpha=0.3)
    _step_legend(ax, {n.step for n in scored}, False)
    return to_png(fig)


def gains(rows: Sequence[tuple[str, float, float | None]]) -> str | None:
    """What helped: each step's gain over what it was compared with (positive = better, whatever the
    direction), with its paired standard error over folds as an error bar. None when no step changed
    the score: an empty chart says nothing."""
    rows = list(rows)
    if not rows or all(value == 0 for _, value, _ in rows):
        return None
    if len(rows) > MAX_BARS:
        keep = set(sorted(range(len(rows)), key=lambda i: -abs(rows[i][1]))[:MAX_BARS])
        rows = [row for i, row in enumerate(rows) if i in keep]
    fig = Figure(figsize=(9, 0.3 * len(rows) + 1))
    ax = fig.add_subplot()
    values = [value for _, value, _ in rows]
    errors = [se or 0.0 for _, _, se in rows]
    y = np.arange(len(rows))[::-1]
    ax.barh(y, values, height=0.6, xerr=errors, error_kw={"ecolor": "black", "capsize": 3, "linewidth": 1},
            color=["#2ca02c" if v > 0 else "#d62728" for v in values])
    ax.set_yticks(y, [label for label, _, _ in rows], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("CV gain (positive = better) ± paired standard error over folds")
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def feature_importance(importance: dict[str, float], top: int = 30) -> str | None:
    """The columns a tree model relied on most, as shares of its importance."""
    ranked = sorted(importance.items(), key=lambda kv: -kv[1])[:top]
    if not ranked or ranked[0][1] <= 0:
        return None
    fig = Figure(figsize=(9, 0.28 * len(ranked) + 1))
    ax = fig.add_subplot()
    y = np.arange(len(ranked))[::-1]
    ax.barh(y, [v for _, v in ranked], height=0.6, color="#1f77b4")
    ax.set_yticks(y, [name[:40] for name, _ in ranked], fontsize=8)
    ax.set_xlabel("share of importance (mean over folds)")
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def optuna_plots(study) -> tuple[str | None, str | None]:
    """Optuna's own optimisation history and parameter importances (its matplotlib backend, so the
    page stays offline); importances need two finished trials that differ."""
    import warnings

    import matplotlib.pyplot as plt
    from optuna.exceptions import ExperimentalWarning
    from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances

    pictures = []
    for plot in (plot_optimization_history, plot_param_importances):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            try:
                ax = plot(study)
            except (ValueError, RuntimeError, ZeroDivisionError):  # too few or identical trials to rank parameters
                pictures.append(None)
                continue
        fig = ax.figure
        fig.set_size_inches(7, 3.6)
        pictures.append(to_png(fig))
        plt.close(fig)
    return pictures[0], pictures[1]


# --- out-of-fold diagnostics of one node -------------------------------------------------------


def binary_diagnostics(y: np.ndarray, p: np.ndarray, classes: Sequence[object], threshold: float = 0.5) -> str:
    """ROC curve, reliability curve and confusion matrix at the node's threshold (the rule its submission used)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = Figure(figsize=(13, 4))
    roc_ax, cal_ax, cm_ax = fig.subplots(1, 3)
    if len(np.unique(y)) == 2:
        fpr, tpr, _ = roc_curve(y, p)
        roc_ax.plot(fpr, tpr, color="#1f77b4", label=f"AUC {roc_auc_score(y, p):.4f}")
        roc_ax.legend(loc="lower right", frameon=False)
    roc_ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    if p.min() >= 0 and p.max() <= 1:
        edges = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
        bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
        used = np.unique(bins)
        cal_ax.plot([p[bins == b].mean() for b in used], [y[bins == b].mean() for b in used], marker="o")
        cal_ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        cal_ax.set(xlabel="mean predicted probability", ylabel="observed rate", title="calibration (deciles)")
    else:
        cal_ax.text(0.5, 0.5, "predictions are not probabilities", ha="center", va="center")
        cal_ax.set_axis_off()
    _confusion(cm_ax, y, (p >= threshold).astype(np.int64), [str(c) for c in classes], f"confusion at {threshold:.3g}")
    fig.tight_layout()
    return to_png(fig)


def multiclass_diagnostics(y: np.ndarray, proba: np.ndarray, classes: Sequence[object],
                           predicted: np.ndarray | None = None) -> str:
    """Row-normalised confusion matrix (most frequent classes) of `predicted` (the node's decision rule;
    default the most likely class) and top-class reliability."""
    fig = Figure(figsize=(11, 4.6))
    cm_ax, cal_ax = fig.subplots(1, 2, width_ratios=[3, 2])
    predicted = proba.argmax(axis=1) if predicted is None else predicted
    labels = [str(c) for c in classes]
    if len(labels) > MAX_CLASSES_SHOWN:
        keep = np.argsort(-np.bincount(y, minlength=len(labels)), kind="stable")[:MAX_CLASSES_SHOWN]
        rows = np.isin(y, keep)
        remap = np.full(len(labels), len(keep))
        remap[keep] = np.arange(len(keep))
        _confusion(cm_ax, remap[y[rows]], remap[predicted[rows]], [labels[k] for k in keep] + ["other"],
                   f"confusion ({MAX_CLASSES_SHOWN} most frequent classes)")
    else:
        _confusion(cm_ax, y, predicted, labels, "confusion (row-normalised)")
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(float)
    edges = np.unique(np.quantile(confidence, np.linspace(0, 1, 11)))
    bins = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, max(len(edges) - 2, 0))
    used = np.unique(bins)
    cal_ax.plot([confidence[bins == b].mean() for b in used], [correct[bins == b].mean() for b in used], marker="o")
    cal_ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    cal_ax.set(xlabel="top-class probability", ylabel="accuracy", title="calibration of the top class (deciles)")
    fig.tight_layout()
    return to_png(fig)


def multilabel_diagnostics(y: np.ndarray, proba: np.ndarray, labels: Sequence[object]) -> str:
    """AUC of every label column, worst first: where the model is weak."""
    from sklearn.metrics import roc_auc_score

    aucs = [roc_auc_score(y[:, j], proba[:, j]) if len(np.unique(y[:, j])) == 2 else np.nan
            for j in range(y.shape[1])]
    order = np.argsort(np.nan_to_num(aucs, nan=2.0))[:MAX_BARS]
    fig = Figure(figsize=(9, max(2.0, 0.3 * len(order) + 1)))
    ax = fig.add_subplot()
    ypos = np.arange(len(order))[::-1]
    ax.barh(ypos, [np.nan_to_num(aucs[j]) for j in order], color="#1f77b4")
    ax.set_yticks(ypos, [f"{labels[j]}" + (" (one class)" if np.isnan(aucs[j]) else "") for j in order], fontsize=8)
    ax.set_xlim(min(0.5, np.nanmin(aucs) if not np.all(np.isnan(aucs)) else 0.5), 1.0)
    ax.set_xlabel("out-of-fold AUC per label")
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def regression_diagnostics(y: np.ndarray, pred: np.ndarray, names: Sequence[str], log_scale: bool) -> str:
    """Predicted against actual (one panel per target, at most three) and the residuals' histogram."""
    y2, p2 = (y, pred) if y.ndim == 2 else (y[:, None], pred[:, None])
    shown = min(3, y2.shape[1])
    fig = Figure(figsize=(4.5 * (shown + 1), 4.2))
    axes = fig.subplots(1, shown + 1)
    for j in range(shown):
        ax, yj, pj = axes[j], y2[:, j], p2[:, j]
        logged = log_scale and yj.min() > 0 and pj.min() > 0
        if len(yj) > SCATTER_LIMIT:
            ax.hexbin(yj, pj, gridsize=60, bins="log", cmap="Blues", xscale="log" if logged else "linear",
                      yscale="log" if logged else "linear")
        else:
            ax.scatter(yj, pj, s=6, alpha=0.4, color="#1f77b4")
            if logged:
                ax.set_xscale("log")
                ax.set_yscale("log")
        low, high = min(yj.min(), pj.min()), max(yj.max(), pj.max())
        ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
        ax.set(xlabel=f"actual {names[j]}", ylabel="predicted (out of fold)", title=f"{names[j]}")
    residuals = (np.log1p(np.clip(p2, 0, None)) - np.log1p(y2) if log_scale else p2 - y2)[:, :shown]
    axes[-1].hist(residuals, bins=50, label=list(names[:shown]) if shown > 1 else None)
    axes[-1].set(xlabel="residual, log1p scale" if log_scale else "residual (predicted - actual)",
                 ylabel="rows", title="residuals")
    if shown > 1:
        axes[-1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return to_png(fig)


def _confusion(ax, y: np.ndarray, predicted: np.ndarray, labels: Sequence[str], title: str) -> None:
    """Counts annotated, colours by share of the true class so rare classes are as readable as common ones."""
    k = len(labels)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y, predicted), 1)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{counts[i, j]}", ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.6 else "black")
    short = [s[:14] for s in labels]
    ax.set_xticks(range(k), short, rotation=90 if k > 4 else 0, fontsize=8)
    ax.set_yticks(range(k), short, fontsize=8)
    ax.set(xlabel="predicted", ylabel="actual", title=title)
