"""The prompts of the three search steps, rendered from the template files in agent/prompts/.

Every prompt carries the competition (description, data profile, metric and direction), the
solution contract with an example, and a memory of the run: every node's runtime, score and plan
(the best first, then the changes that did not help, the failures' one-line causes and the rest),
so that the model builds on what worked and does not repeat itself.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import statistics
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from types import ModuleType
from typing import Any, Callable

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.engineers.base import Ask, Brief
from agent.gains import gain_of
from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from pipelines.shapes import STRING_SHAPES

DESCRIPTION_CHARS = 8000
PROFILE_CHARS = 12000
LOG_TAIL_LINES = 40
LOG_TAIL_CHARS = 4000
PLAN_CHARS = 1500
MEMORY_CHARS = 12000
HELPER_DOC_CHARS = 900
MEMORY_BEST, MEMORY_WORSE, MEMORY_FAILED = 6, 6, 8
MEMORY_OTHERS = 24  # the newest other scored nodes; a longer run names how many are left out
LIBRARIES = ["numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "xgboost", "catboost", "optuna", "torch",
             "sentence-transformers"]
# What a model trained on older releases gets wrong about the installed one (major version: the note).
VERSION_NOTES = {("pandas", "3"): "copy-on-write: an array from `to_numpy()` or `.values` may be read-only, so "
                                  "copy it before writing into it"}
NOISE_NOTE = ("\n\nA score is the mean over the folds (± their spread); a gain is ± its standard error paired "
              "over the folds: a gain within one standard error is noise, not a finding.")
NOTE = re.compile(r"\s*<!--.*-->\s*")
STRING_SHAPE_WORDS = {
    "span": "a span (a run of consecutive words) of the input text column `{}`, scored as a string.",
    "string": "free text per row; `ctx.spec.source_column` ({}) names the input it rewrites, if any.",
    "boxes": "the boxes found in the row's image, `label confidence x_min y_min x_max y_max` repeated, in the "
             "image's pixels; a label whose boxes are `0 0 1 1` means the whole image (no finding).",
}
PLAN_HINTS = {
    "draft": "the approach in 2 to 5 sentences: features, model, and why it suits this data",
    "improve": "the ONE change and why it should improve the score, in 1 to 4 sentences",
    "debug": "the cause of the failure and the fix, in 1 to 3 sentences",
}


@dataclass(frozen=True)
class Limits:
    """What one candidate may use; the prompt states them so the code fits."""

    node_seconds: float
    n_jobs: int
    memory_mb: int
    device: str


def render(name: str, **values: object) -> str:
    """Fill agent/prompts/<name>.md; a missing value is a KeyError, never a silent gap.

    Lines holding only an HTML comment are notes for maintainers and are not sent.
    """
    text = resources.files("agent").joinpath("prompts", f"{name}.md").read_text()
    text = "\n".join(line for line in text.splitlines() if not NOTE.fullmatch(line))
    return Template(text).substitute({k: str(v) for k, v in values.items()}).strip() + "\n"


def build_messages(ask: Ask, brief: Brief, journal: Journal, run: RunFolder, limits: Limits) -> list[BaseMessage]:
    """The system prompt and the step's prompt for `ask`."""
    spec = brief.spec
    common = {
        "competition": competition_section(brief),
        "contract": contract_section(brief, limits),
        "memory": memory_section(journal, spec.greater_is_better),
        "reply_format": render("reply_format", plan_hint=PLAN_HINTS[ask.kind]),
    }
    if ask.kind == "draft":
        user = render("draft", **common)
    elif ask.kind == "improve":
        user = render("improve", **common, **_node_values(ask.parent, journal, run), metric=spec.metric,
                      why=ask.why or "chosen by the search",
                      direction_words=_direction_words(spec.greater_is_better),
                      node_seconds=f"{limits.node_seconds:.0f}")
    else:
        user = render("debug", **common, **_node_values(ask.parent, journal, run), error=ask.parent.error or "unknown",
                      log_tail=log_tail(run, ask.parent.id))
    return [SystemMessage(render("system")), HumanMessage(user)]


def as_markdown(messages: list[BaseMessage]) -> str:
    """The prompt as it was sent, for the node folder."""
    return "\n\n".join(f"<!-- {m.type} -->\n\n{m.content}" for m in messages)


# --- sections -----------------------------------------------------------------------------------

def competition_section(brief: Brief) -> str:
    spec = brief.spec
    return render(
        "competition", slug=spec.slug, task=spec.task, modality=spec.modality, metric=spec.metric,
        direction_words=_direction_words(spec.greater_is_better), targets=", ".join(spec.target_columns),
        submission_columns=", ".join(spec.submission_columns), submission_kind=spec.submission_kind,
        description=_clip(spec.description.strip() or "(no description given)", DESCRIPTION_CHARS),
        profile=_clip(brief.profile_text.strip(), PROFILE_CHARS),
    )


def contract_section(brief: Brief, limits: Limits) -> str:
    """The rows contract (features and model), the mask contract, or for string answers the per-fold fit_predict one."""
    spec = brief.spec
    values = dict(metric=spec.metric, node_seconds=f"{limits.node_seconds:.0f}", n_jobs=limits.n_jobs,
                  device=limits.device, memory_mb=limits.memory_mb, folds=brief.folds or "folds fixed by the harness",
                  libraries=installed_libraries())
    if spec.answer_shape == "mask":
        answer = f"column `{spec.submission_columns[0]}` of the submission, as run-length strings"
        return render("contract_mask", answer=answer, **{k: v for k, v in values.items() if k != "folds"})
    if spec.answer_shape not in STRING_SHAPES:
        return render("contract", **values, helpers=helper_signatures())
    import pipelines.shapes.spans

    return render("contract_strings", **values, shape=STRING_SHAPE_WORDS[spec.answer_shape].format(spec.source_column),
                  answer_column=spec.submission_columns[0],
                  helpers="\n".join(_signature_lines(pipelines.shapes.spans)))


def memory_section(journal: Journal, greater_is_better: bool) -> str:
    """Best nodes, changes that did not help, failures, then the other nodes: what the model must know to
    not repeat itself.

    Each entry has its runtime, its full plan, its score with the folds' spread and its gain over
    its parent with the gain's standard error; past MEMORY_CHARS the oldest entries lose their plans.
    """
    nodes = list(journal)
    if not nodes:
        return render("memory", counts="Nothing yet: this is the first solution.", entries="")
    ok = journal.ranked(greater_is_better)
    worse = [n for n in nodes if n.ok and n.gain is not None and n.gain <= 0]
    failed = [n for n in nodes if n.status == "failed"]
    best, worse, failed_shown = ok[:MEMORY_BEST], worse[-MEMORY_WORSE:], failed[-MEMORY_FAILED:]
    named = {n.id for n in (*best, *worse, *failed_shown)}
    others = [n for n in nodes if n.ok and n.id not in named]
    sections = [
        (f"Best solutions ({_direction_words(greater_is_better)}):", best),
        ("Changes that did not help (score not better than their parent's):", worse),
        ("Failures and their causes:", failed_shown),
        ("Other solutions (in the order they ran):", others[-MEMORY_OTHERS:]),
    ]
    shown = sorted({n.id for _, group in sections for n in group})
    with_plan = set(shown)
    entries = lambda: _memory_entries(sections, journal, greater_is_better, with_plan)  # noqa: E731
    while len(entries()) > MEMORY_CHARS and with_plan:
        with_plan.discard(min(with_plan))  # the oldest plans go first
    counts = f"{len(nodes)} solutions so far: {len(ok)} scored, {len(failed)} failed."
    if (unlisted := len(ok) + len(failed) - len(shown)) > 0:
        counts += f" {unlisted} older ones are not listed."
    if len(with_plan) < len(shown):
        counts += f" Plans of the {len(shown) - len(with_plan)} oldest entries are left out for length."
    return render("memory", counts=counts, entries=entries() + NOISE_NOTE)


def _memory_entries(sections: list[tuple[str, list[Node]]], journal: Journal, greater_is_better: bool,
                    with_plan: set[str]) -> str:
    return "\n\n".join(f"{heading}\n" + "\n".join(_memory_line(n, journal, greater_is_better, n.id in with_plan)
                                                  for n in group)
                       for heading, group in sections if group)


def _memory_line(node: Node, journal: Journal, greater_is_better: bool, plan: bool = True) -> str:
    took = f", {node.seconds:.0f}s" if node.seconds is not None else ""
    if node.ok:
        spread = f" ± {statistics.stdev(node.fold_scores):.5f} over {len(node.fold_scores)} folds" \
            if len(node.fold_scores) > 1 else ""
        gain = _gain_text(node, journal, greater_is_better)
        head = f"- {_origin(node)}{took}: {node.score:.5f}{spread}{gain} \"{node.title}\""
    else:
        head = f"- {_origin(node)}{took} \"{node.title}\": failed: {_one_line(node.error or 'failed', 300)}"
    if plan and node.plan and node.step != "tune":
        head += f"\n  Plan: {_one_line(node.plan, PLAN_CHARS)}"
    return head


def _gain_text(node: Node, journal: Journal, greater_is_better: bool) -> str:
    """The gain over the parent (positive is better), with its standard error paired over the folds."""
    gain = gain_of(node, journal, greater_is_better)
    return f" ({gain.text()})" if gain is not None else ""


def _origin(node: Node) -> str:
    parent = f" of {node.parent}" if node.parent else ""
    return f"node {node.id} ({node.step}{parent}, by {node.engineer})"


def _node_values(node: Node, journal: Journal, run: RunFolder) -> dict[str, str]:
    folds = ", ".join(f"{s:.5f}" for s in node.fold_scores) or "-"
    params_note = ""
    seconds = node.seconds
    if node.step == "tune":
        if node.params:
            params_note = (f"These PARAMS were found by tuning and are not yet in the code; start from them "
                           f"(copying them in is not your one change): {node.params}\n")
        if node.parent in journal.nodes:  # a tuning node's time is the study's; one run takes its parent's
            seconds = journal.get(node.parent).seconds
    return {"node_id": node.id, "title": node.title, "plan": _one_line(node.plan, 1500) or "(none)",
            "code": run.code(node.id).strip() or "(no code: the reply held none)",
            "score": f"{node.score:.5f}" if node.score is not None else "-", "fold_scores": folds,
            "seconds": f"{seconds:.0f}s" if seconds is not None else "?", "params_note": params_note}


def log_tail(run: RunFolder, node_id: str) -> str:
    path = run.node_dir(node_id) / "log.txt"
    try:
        lines = path.read_text(errors="replace").rstrip().splitlines()
    except OSError:
        return "(no log)"
    tail = "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"
    return tail if len(tail) <= LOG_TAIL_CHARS else "[...]\n" + tail[-LOG_TAIL_CHARS:]


# --- facts about this installation --------------------------------------------------------------

@cache
def installed_libraries() -> str:
    found = []
    for name in LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        note = VERSION_NOTES.get((name, version.split(".")[0]))
        found.append(f"{name} {'.'.join(version.split('.')[:2])}" + (f" ({note})" if note else ""))
    return ", ".join(found)


@cache
def helper_signatures() -> str:
    """The public functions of pipelines.features and pipelines.models, read from the code itself."""
    import pipelines.features
    import pipelines.models

    return "\n".join(_signature_lines(pipelines.features) + _signature_lines(pipelines.models))


def _signature_lines(module: ModuleType) -> list[str]:
    lines = []
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ != module.__name__ or name.startswith("_"):
            continue
        params = []
        for p in inspect.signature(fn).parameters.values():
            text = ("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else "") + p.name
            if p.annotation is not p.empty:
                text += f": {p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation)}"
            if p.default is not p.empty:
                text += f" = {p.default!r}"
            params.append(text)
        doc = _one_line(inspect.getdoc(fn) or "", HELPER_DOC_CHARS)
        if name.endswith("_search_space"):
            doc += f" Suggests: {_suggested(fn)}."
        lines.append(f"- `{module.__name__}.{name}({', '.join(params)})`: {doc}")
    return lines


def _suggested(search_space: Callable[[Any], dict]) -> str:
    """The keys and ranges a search-space function suggests, read by calling it on a recording trial."""
    suggested = []

    class Recorder:
        def __getattr__(self, method: str) -> Callable[..., Any]:
            def suggest(name: str, *args: Any, **kw: Any) -> Any:
                if method == "suggest_categorical":
                    choices = list(args[0] if args else kw["choices"])
                    suggested.append(f"{name} in {choices}")
                    return choices[0]
                low, high = (args + (kw.get("low"), kw.get("high")))[:2] if args else (kw.get("low"), kw.get("high"))
                suggested.append(f"{name} {low}..{high}{' log' if kw.get('log') else ''}")
                return low
            return suggest

    search_space(Recorder())
    return ", ".join(suggested)


# --- small text helpers ---------------------------------------------------------------------------

def _direction_words(greater_is_better: bool) -> str:
    return "higher is better" if greater_is_better else "lower is better"


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + f"\n\n[... cut at {limit} characters]"
