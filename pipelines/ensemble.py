"""Ensembles of candidates from their out-of-fold predictions (all candidates of a run share the folds).

Two ways to combine, and the better one (by an honest estimate) wins:
- greedy ensemble selection (Caruana et al., 2004): add, with replacement, the member that most
  improves the blend; the weights are how often each was picked;
- stacking: a small regularised model (logistic regression on logits, ridge on values) whose
  inputs are the members' predictions.
Both are fitted on the other folds' rows for each fold ("cross-fitting"), so the ensemble's
out-of-fold score is as honest as a single model's and can be compared with it. Test predictions
come from the combination fitted on all rows.

Blending happens in the metric's space: probabilities for classification, log values when the
metric is on a log scale. Combinations of probabilities stay probabilities, so log-loss stays
meaningful; the stack's logistic link is itself a calibration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from pipelines.context import Context
from pipelines.metrics import Metric, get_metric
from pipelines.spec import CompetitionSpec
from pipelines.targets import encode_target, metric_input

EPS = 1e-6
MAX_NEWTON_COEFFICIENTS = 2000  # a stack's Newton Hessian then holds 2,000² doubles: 32 MB
Loss = Callable[[np.ndarray, np.ndarray], float]


def load_members(nodes_dir: Path, members: list[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Out-of-fold and test predictions saved by each member node (`nodes/<id>/{oof,test}.npy`)."""
    nodes_dir = Path(nodes_dir)
    oofs = [np.load(nodes_dir / m / "oof.npy") for m in members]
    tests = [np.load(nodes_dir / m / "test.npy") for m in members]
    return oofs, tests


# --- the space blends live in, and what they minimise -------------------------------------------------

def log_scale(metric: Metric) -> bool:
    return metric.name in ("rmsle", "mcrmsle", "rmse_log")


def to_blend_space(values: np.ndarray, metric: Metric) -> np.ndarray:
    return np.log1p(np.clip(values, 0, None)) if log_scale(metric) else values


def from_blend_space(values: np.ndarray, metric: Metric) -> np.ndarray:
    return np.expm1(values) if log_scale(metric) else values


def surrogate_loss(task: str) -> Loss:
    """A smooth loss to choose blends by: log loss for classes, squared error for values.

    Smooth losses pick better weights than step-like label metrics such as accuracy, whose
    threshold is decided afterwards anyway.
    """
    if task == "binary":
        return lambda y, p: float(-np.mean(y * np.log(np.clip(p, EPS, 1)) + (1 - y) * np.log(np.clip(1 - p, EPS, 1))))
    if task == "multiclass":
        return lambda y, p: float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], EPS, 1))))
    if task == "multilabel":
        return lambda y, p: float(-np.mean(y * np.log(np.clip(p, EPS, 1)) + (1 - y) * np.log(np.clip(1 - p, EPS, 1))))
    return lambda y, p: float(np.mean((np.asarray(y, dtype=np.float64) - p) ** 2))


def selection_loss(metric: Metric, spec: CompetitionSpec) -> Loss:
    """The competition metric as a loss when it scores probabilities or values on their own scale;
    otherwise (labels, label lists, log scales: blends live in log space) the surrogate."""
    if metric.needs == "label" or spec.answer_shape == "labels" or metric.spread or log_scale(metric):
        return surrogate_loss(spec.task)
    sign = -1.0 if metric.greater_is_better else 1.0
    return lambda y, p: sign * float(metric(y, metric_input(p, spec, metric)))


# --- greedy ensemble selection -------------------------------------------------------------------------

def greedy_weights(preds: list[np.ndarray], y: np.ndarray, loss: Loss, rounds: int = 30) -> np.ndarray:
    """Caruana's selection with replacement, started from the best single member; weights sum to one."""
    counts = np.zeros(len(preds))
    single = [loss(y, p) for p in preds]
    counts[int(np.argmin(single))] = 1
    blend = preds[int(np.argmin(single))].copy()
    best_loss, best_counts = min(single), counts.copy()
    for _ in range(rounds):
        n = counts.sum()
        trials = [loss(y, (blend * n + p) / (n + 1)) for p in preds]
        j = int(np.argmin(trials))
        counts[j] += 1
        blend = (blend * n + preds[j]) / (n + 1)
        if trials[j] < best_loss - 1e-12:
            best_loss, best_counts = trials[j], counts.copy()
    return best_counts / best_counts.sum()


def weighted(preds: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    return sum(w * p for w, p in zip(weights, preds))


# --- stacking -------------------------------------------------------------------------------------------

def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _stack_inputs(preds: list[np.ndarray], task: str, column: int = 0) -> np.ndarray:
    if task == "binary":
        return np.column_stack([_logit(p) for p in preds])
    if task == "multiclass":
        return np.hstack([np.log(np.clip(p, EPS, 1)) for p in preds])
    values = [p if p.ndim == 1 else p[:, column] for p in preds]
    return np.column_stack([_logit(v) for v in values] if task == "multilabel" else values)


def _meta_logistic(inputs: np.ndarray, target: np.ndarray) -> Any:
    """Logistic regression on the members' log-odds or log-probabilities. These few, nearly collinear
    inputs take L-BFGS thousands of steps and Newton's method about ten, while Newton's Hessian grows
    with the square of the coefficients, so beyond MAX_NEWTON_COEFFICIENTS L-BFGS is kept."""
    from sklearn.linear_model import LogisticRegression

    coefficients = inputs.shape[1] * max(1, len(np.unique(target)) - 1)
    solver = "newton-cholesky" if coefficients <= MAX_NEWTON_COEFFICIENTS else "lbfgs"
    return LogisticRegression(C=1.0, max_iter=2000, solver=solver).fit(inputs, target)


def _fit_column_meta(inputs: np.ndarray, target: np.ndarray, task: str) -> Callable[[np.ndarray], np.ndarray]:
    from sklearn.linear_model import Ridge

    if task == "multilabel":
        if len(np.unique(target)) < 2:
            constant = float(target[0])
            return lambda X: np.full(len(X), constant)
        model = _meta_logistic(inputs, target)
        return lambda X: model.predict_proba(X)[:, 1]
    return Ridge(alpha=1.0, positive=True).fit(inputs, target).predict


def _fit_stack(preds: list[np.ndarray], y: np.ndarray, task: str, n_classes: int) -> Callable[[list[np.ndarray]], np.ndarray]:
    """A meta-model on the members' predictions; returns the function that applies it."""
    if task in ("binary", "multiclass"):
        meta = _meta_logistic(_stack_inputs(preds, task), y)

        def apply(new: list[np.ndarray]) -> np.ndarray:
            proba = np.zeros((len(new[0]), n_classes))
            proba[:, meta.classes_] = meta.predict_proba(_stack_inputs(new, task))
            return proba[:, 1] if task == "binary" else proba

        return apply
    Y = y if y.ndim == 2 else y[:, None]
    metas = [_fit_column_meta(_stack_inputs(preds, task, j), Y[:, j], task) for j in range(Y.shape[1])]

    def apply(new: list[np.ndarray]) -> np.ndarray:
        out = np.column_stack([meta(_stack_inputs(new, task, j)) for j, meta in enumerate(metas)])
        return out if y.ndim == 2 else out[:, 0]

    return apply


# --- cross-fitted combination ---------------------------------------------------------------------------

def _combiner(method: str, preds: list[np.ndarray], y: np.ndarray, loss: Loss, spec: CompetitionSpec):
    """Fit one combination method; return the function that applies it and the facts worth recording."""
    if method == "greedy":
        weights = greedy_weights(preds, y, loss)
        return (lambda new: weighted(new, weights)), {"weights": [round(float(w), 4) for w in weights]}
    return _fit_stack(preds, y, spec.task, spec.n_classes), {}


def combine(oofs: list[np.ndarray], tests: list[np.ndarray], y: np.ndarray, folds: np.ndarray, spec: CompetitionSpec,
            metric: Metric, methods: tuple[str, ...] = ("greedy", "stack")) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Cross-fitted out-of-fold and full-fit test predictions of the best combination method."""
    oofs = [to_blend_space(np.asarray(o, dtype=np.float64), metric) for o in oofs]
    tests = [to_blend_space(np.asarray(t, dtype=np.float64), metric) for t in tests]
    y_blend = to_blend_space(np.asarray(y, dtype=np.float64), metric) if spec.task == "regression" else y
    loss = selection_loss(metric, spec)
    finite = np.all([np.isfinite(o).reshape(len(o), -1).all(axis=1) for o in oofs], axis=0)
    valid = (folds >= 0) & finite
    outcomes = {}
    for method in methods:
        oof = np.full_like(oofs[0], np.nan)
        for k in sorted(set(folds[valid].tolist())):
            fit_rows, rows = valid & (folds != k), valid & (folds == k)
            apply, _ = _combiner(method, [o[fit_rows] for o in oofs], y_blend[fit_rows], loss, spec)
            oof[rows] = apply([o[rows] for o in oofs])
        outcomes[method] = (loss(y_blend[valid], oof[valid]), oof)
    method = min(outcomes, key=lambda m: outcomes[m][0])
    apply, facts = _combiner(method, [o[valid] for o in oofs], y_blend[valid], loss, spec)
    facts.update(method=method, losses={m: round(v[0], 6) for m, v in outcomes.items()})
    return from_blend_space(outcomes[method][1], metric), from_blend_space(apply(tests), metric), facts


def nodes_folder(solution_file: str | Path) -> Path:
    """<run>/nodes, from a solution in <run>/nodes/<id>/ or a copy of it in <run>/best/ (or the folder itself,
    as ensembles written before this took it)."""
    if Path(solution_file).is_dir():
        return Path(solution_file)
    here = Path(solution_file).resolve().parent
    return here.parent if here.parent.name == "nodes" else here.parent / "nodes"


def blend_members(solution_file: str | Path, members: list[str], train: Any, folds: np.ndarray,
                  ctx: Context) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """What an ensemble node's fit_predict returns: the combination of `members` (node ids), and its facts."""
    oofs, tests = load_members(nodes_folder(solution_file), members)
    if ctx.spec.answer_shape == "mask":  # probabilities per pixel, averaged; the harness fits the cut
        weights = {m: round(1 / len(members), 4) for m in members}
        return np.mean(oofs, axis=0, dtype=np.float32), np.mean(tests, axis=0, dtype=np.float32), {"weights": weights}
    oof, test, facts = combine(oofs, tests, encode_target(train, ctx.spec), folds, ctx.spec, get_metric(ctx.spec.metric))
    if "weights" in facts:
        facts["weights"] = dict(zip(members, facts["weights"]))
    return oof, test, facts


ENSEMBLE_CODE = '''"""Ensemble of nodes {listed}: greedy selection or a stack on their out-of-fold predictions.

Whichever combination has the better cross-fitted score wins (each fold's combination is fitted on
the other folds only); its weights are recorded in the journal.
"""

from pipelines.ensemble import blend_members

MEMBERS = {members!r}


def fit_predict(train, test, folds, ctx):
    # Members' predictions live beside this node: <run>/nodes/<id>/{{oof,test}}.npy
    return blend_members(__file__, MEMBERS, train, folds, ctx)
'''


def ensemble_code(members: list[str]) -> str:
    """A readable solution file that combines the given member nodes."""
    return ENSEMBLE_CODE.format(listed=", ".join(members), members=list(members))
