"""The engineer that needs no LLM: proven Kaggle recipes, chosen from the data profile.

Recipes are ordinary solutions (agent/recipes/*.py) that read their columns from `ctx.spec`,
so each is readable and rerunnable on its own and works for any competition it applies to.

Drafts are the recipes that fit the data, most promising (and fastest) first. An improvement is
a one-line edit of the parent's code: it flips one of the named feature switches at the top of
the recipe (`TARGET_ENCODING = False` -> `True`), so cross-validation, not a guess, decides
whether a feature block helps; the search records the gain over the parent (a network that trains on
from its last weights, and gained by it, first runs once more unchanged). When the parent was
tuned, its tuned parameters become the new PARAMS, so improvements build on tuning. A failed
recipe is fixed by its core: the same code with every switched-on block off.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from importlib import resources

from agent.engineers.base import Ask, Brief, Proposal
from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from pipelines.device import detect_device
from pipelines.embeddings import embeddings_available
from pipelines.features import MAX_CATEGORY_LEVELS, has_code_levels
from pipelines.spec import CompetitionSpec

SWITCH = re.compile(r"^([A-Z][A-Z0-9_]*) = (True|False)\b", re.M)
PARAMS_LINE = re.compile(r"^PARAMS = \{[^{}]*\}", re.M)  # PARAMS dicts are flat, possibly over several lines

SMALL_ROWS = 3_000        # kernel SVMs: Platt scaling and O(n^2) kernels stay cheap below this
FEW_ROWS_PER_CLASS = 100  # when trees have too few rows per class, linear/discriminant/neighbour blends shine
MANY_CLASSES = 5  # from here on (classes or targets) a GBDT draft costs several times a binary one
SPARSE_CLASS_ROWS = 6  # fewer train rows per class than this: models may rank worse than the class shares
# Answers that are not a row's label or number have recipes of their own (pipelines.shapes).
SHAPE_RECIPES = {"span": ["span_selector"], "string": ["string_lookup"], "boxes": ["box_priors"]}
SHAPE_NETWORKS = {"boxes": "box_heatmaps"}  # drafted after the shape's recipes where torch is installed
SHAPE_FINETUNES = {"span": "span_finetune"}  # a pretrained transformer fine-tuned for the shape
# Networks that plan their epochs from a timed probe and their limit: given half their parent's time, they
# train a smaller version instead of timing out (agent.timing).
SIZED_TO_TIME = {"unet_masks", "image_cnn", "text_finetune", "span_finetune", "box_heatmaps"}
# On a CPU these spend a node's whole limit for an ensemble member: held back from the first round of drafts.
HELD_BACK_ON_CPU = {"text_finetune"}


def recipe_code(name: str) -> str:
    return resources.files("agent.recipes").joinpath(f"{name}.py").read_text()


def recipe_plan(code: str) -> str:
    """The recipe's docstring: what it does and why."""
    return code.split('"""')[1].strip()


def applicable_recipes(spec: CompetitionSpec, n_rows: int, device: str = "cpu") -> list[str]:
    """Recipes worth drafting for this data, most promising first (fast and strong before slow and diverse)."""
    if spec.answer_shape in SHAPE_RECIPES:
        recipes = list(SHAPE_RECIPES[spec.answer_shape])
        if spec.answer_shape in SHAPE_FINETUNES and embeddings_available():
            recipes = with_finetune(recipes, SHAPE_FINETUNES[spec.answer_shape], device)
        if spec.answer_shape in SHAPE_NETWORKS and importlib.util.find_spec("torch") is not None:
            recipes.append(SHAPE_NETWORKS[spec.answer_shape])
        return recipes
    tabular = bool(spec.numeric_columns or spec.categorical_columns or spec.datetime_columns)
    text = bool(spec.text_columns)
    embeddings = ["text_embeddings"] if embeddings_available() else []
    if spec.answer_shape == "mask":
        return ["unet_masks"] if importlib.util.find_spec("torch") is not None else []
    recipes: list[str] = []
    if spec.file_columns:
        recipes.append("file_stats_lightgbm")  # seconds: a valid submission before any network trains
    if spec.image_columns and importlib.util.find_spec("torch") is not None:
        recipes.append("image_cnn")
    if text and spec.modality == "text":
        recipes += ["tfidf_linear", "nbsvm_text", "text_stack", *embeddings, "lightgbm_tabular"]
        if spec.column_pairs:  # how alike two texts are (a question and its duplicate) only trees on pair features see
            recipes.insert(recipes.index("tfidf_linear") + 1, "lightgbm_tabular")
    elif tabular or text:
        recipes += ["lightgbm_tabular", "linear_tabular"]
        if text:
            recipes += ["tfidf_linear", "text_stack", *embeddings]
        recipes.append("catboost_tabular")
        if spec.task == "multiclass" and n_rows <= FEW_ROWS_PER_CLASS * spec.n_classes:
            recipes.insert(1, "small_multiclass_blend")
        if n_rows <= SMALL_ROWS:
            recipes.append("svm_tabular")
        recipes.append("xgboost_tabular")
        if spec.task == "multiclass" and spec.n_classes >= MANY_CLASSES:
            # GBDTs grow one tree per class and round: a linear model's valid submission comes first, in seconds.
            recipes.insert(0, recipes.pop(recipes.index("linear_tabular")))
    if spec.task == "multilabel" or (spec.task == "regression" and len(spec.target_columns) > 1):
        recipes = [r for r in recipes if r not in ("small_multiclass_blend", "svm_tabular", "nbsvm_text")]
    if spec.task == "regression" and len(spec.target_columns) > 1 and "linear_tabular" in recipes:
        # A GBDT grows a model per target (a sequence's five rates: five), a linear model fits them at once:
        # its valid submission comes first.
        recipes.insert(0, recipes.pop(recipes.index("linear_tabular")))
    if spec.task == "regression" and len(spec.target_columns) > MANY_CLASSES:
        # Thirty targets: LightGBM took 200 s of a 300 s node, XGBoost 287 s, CatBoost did not finish.
        recipes = [r for r in recipes if r not in ("xgboost_tabular", "catboost_tabular")]
    if spec.task not in ("binary", "multiclass"):
        recipes = [r for r in recipes if r != "small_multiclass_blend"]
    if (text or spec.column_pairs) and embeddings_available():
        recipes = with_finetune(recipes, "text_finetune", device)
    if spec.task == "multiclass" and n_rows < SPARSE_CLASS_ROWS * spec.n_classes:
        recipes.insert(0, "class_prior")  # seconds: the bar every model must clear
    return list(dict.fromkeys(recipes))


def with_finetune(recipes: list[str], finetune: str, device: str) -> list[str]:
    """A GPU fine-tunes the whole transformer in minutes: the strongest text model comes first. A CPU
    trains its top blocks for most of a node's time, after the fast models have made their case."""
    return [finetune, *recipes] if device == "cuda" else [*recipes, finetune]


@dataclass
class Switch:
    name: str
    value: bool


def switches(code: str) -> list[Switch]:
    """The named feature switches at the top level of a solution (`NAME = True|False`)."""
    return [Switch(m.group(1), m.group(2) == "True") for m in SWITCH.finditer(code)]


def flip(code: str, name: str) -> str:
    """The code with switch `name` flipped (only its defining line changes)."""
    pattern = re.compile(rf"^{name} = (True|False)\b", re.M)
    return pattern.sub(lambda m: f"{name} = {'False' if m.group(1) == 'True' else 'True'}", code, count=1)


def with_params(code: str, params: dict) -> str:
    """The code with its one-line PARAMS replaced by `params` (e.g. a tuned parent's best trial)."""
    if not params or not PARAMS_LINE.search(code):
        return code
    return PARAMS_LINE.sub(lambda _: f"PARAMS = {params!r}", code, count=1)


def _has_missing(brief: Brief) -> bool:
    return any(col.get("missing", 0) > 0 or col.get("missing_in_test", 0) > 0 for col in brief.profile.get("columns", []))


def _has_integer_codes(brief: Brief) -> bool:
    """Whether some integer input looks like a code (`pipelines.features.integer_codes`), as far as
    the profile tells."""
    rows = int(brief.profile.get("rows", {}).get("train", 0))
    return any(col.get("name") in brief.spec.numeric_columns and str(col.get("dtype", "")).startswith(("int", "Int"))
               and has_code_levels(col.get("unique", 0), rows) for col in brief.profile.get("columns", []))


def _has_few_level_categoricals(brief: Brief) -> bool:
    unique = {col.get("name"): col.get("unique", 0) for col in brief.profile.get("columns", [])}
    return any(unique.get(c, 0) <= MAX_CATEGORY_LEVELS for c in brief.spec.categorical_columns)


def _pair_side_repeats(brief: Brief) -> bool:
    """Whether a side of some paired columns repeats (an anchor with several known matches)."""
    rows = int(brief.profile.get("rows", {}).get("train", 0))
    unique = {col.get("name"): col.get("unique", rows) for col in brief.profile.get("columns", [])}
    return any(min(unique.get(a, rows), unique.get(b, rows)) <= rows / 2 for a, b in brief.spec.column_pairs)


# When flipping a switch can change anything; a switch not listed always can.
SWITCH_MATTERS = {
    "COUNT_ENCODING": lambda b: _has_few_level_categoricals(b),  # many-level ones are counted always
    "TARGET_ENCODING": lambda b: bool(b.spec.categorical_columns),
    "MISSING_INDICATORS": _has_missing,
    "ROW_STATISTICS": lambda b: len(b.spec.numeric_columns) >= 2,
    "GROUP_STATISTICS": lambda b: bool(b.spec.group_column and b.spec.numeric_columns),
    "GROUP_SEQUENCE": lambda b: bool(b.spec.group_column and b.spec.numeric_columns),
    "INTEGER_CODES": _has_integer_codes,
    "EMBEDDINGS": lambda b: embeddings_available(),
    "PAIR_MEANING": lambda b: bool(b.spec.column_pairs) and embeddings_available(),
    "PAIR_NEIGHBOURS": lambda b: _pair_side_repeats(b) and embeddings_available(),
    "AUXILIARY_TARGETS": lambda b: bool(b.spec.auxiliary_columns),
}


# Switched on from the first draft when they can matter: a group column found in the data (rows in
# groups test never shares) and labels train has beside the target are the strongest signals a table
# gives, and a 60 s run has no time to find that out by improvement. The improve step still tries
# each of them off.
ON_FROM_THE_START = ("GROUP_STATISTICS", "GROUP_SEQUENCE", "AUXILIARY_TARGETS")

# On, the same code run again is a new experiment: it trains on from the weights the last fit left.
# While that gained, more of it comes before any other edit (a network sized to a CPU's minutes is
# under-trained).
TRAINS_ON = "CONTINUE_TRAINING"


def _normalised(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def _codes_run(journal: Journal, run: RunFolder) -> set[str]:
    """The code of every node so far, normalised: a variant already among them is not proposed again."""
    return {_normalised(run.code(n.id)) for n in journal if run.node_dir(n.id).joinpath("solution.py").exists()}


class BuiltinEngineer:
    name = "builtin"

    def propose(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        if ask.kind == "draft":
            return self._draft(brief, journal, ask.early, ask.sized_only)
        if ask.kind == "improve" and ask.parent is not None:
            return self._improve(ask.parent, brief, journal, run)
        if ask.kind == "debug" and ask.parent is not None and ask.parent.engineer in (None, self.name):
            return self._simplify(ask.parent, journal, run)
        return None

    def _draft(self, brief: Brief, journal: Journal, early: bool = False, sized_only: bool = False) -> Proposal | None:
        """The next recipe not drafted yet; in the first round (`early`) a CPU leaves out HELD_BACK_ON_CPU,
        so the best recipe's edits come before them; with less time than drafts took, one of SIZED_TO_TIME."""
        tried = {n.recipe for n in journal if n.step == "draft"}
        n_rows = int(brief.profile.get("rows", {}).get("train", 0))
        device = detect_device()
        for name in applicable_recipes(brief.spec, n_rows, device):
            if (early and device != "cuda" and name in HELD_BACK_ON_CPU) or (sized_only and name not in SIZED_TO_TIME):
                continue
            if name not in tried:
                code = recipe_code(name)
                for switch in switches(code):
                    if switch.name in ON_FROM_THE_START and not switch.value and SWITCH_MATTERS[switch.name](brief):
                        code = flip(code, switch.name)
                return Proposal(title=name, plan=recipe_plan(code), code=code, recipe=name,
                                sized_to_time=name in SIZED_TO_TIME)
        return None

    def _improve(self, parent: Node, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        """The parent with one feature switch flipped, the first such variant not tried yet that can matter here."""
        code = run.code(parent.id)
        if parent.step == "tune":
            code = with_params(code, parent.params)
        if (again := self._train_on(parent, code, journal)) is not None:
            return again
        seen = _codes_run(journal, run)
        recipe = parent.recipe
        # Additions first (a block switched on), then removals: trees rarely lose from a relevant block.
        for switch in sorted(switches(code), key=lambda s: s.value):
            if not SWITCH_MATTERS.get(switch.name, lambda b: True)(brief):
                continue
            variant = flip(code, switch.name)
            if _normalised(variant) in seen:
                continue
            sign = "-" if switch.value else "+"
            title = f"{recipe} {sign}{switch.name.lower()}"
            plan = (f"Node {parent.id} ({parent.title}) with {switch.name} switched "
                    f"{'off' if switch.value else 'on'}; cross-validation decides whether it stays.")
            return Proposal(title=title[:60], plan=plan, code=variant, recipe=recipe,
                            sized_to_time=parent.sized_to_time,
                            facts={"switch": switch.name, "switch_on": not switch.value})
        return None

    @staticmethod
    def _train_on(parent: Node, code: str, journal: Journal) -> Proposal | None:
        """The parent's code once more, when it trains on from the last weights and doing so gained."""
        trains_on = any(s.name == TRAINS_ON and s.value for s in switches(code))
        tried = any(c.facts.get("again") for c in journal.children(parent.id))
        if not trains_on or not (parent.gain or 0) > 0 or tried:
            return None
        plan = (f"Node {parent.id}'s code again: it trains on from the weights the last fit on the same items left, "
                f"as training on gained {parent.gain:+.4f} last time.")
        return Proposal(title=f"{parent.recipe} trained on"[:60], plan=plan, code=code, recipe=parent.recipe,
                        sized_to_time=parent.sized_to_time, facts={"again": True})

    def _simplify(self, parent: Node, journal: Journal, run: RunFolder) -> Proposal | None:
        """A failed recipe's fix: every optional block switched off. A block that breaks on this data,
        or makes the node too slow for its limit, is then out, and what is left is the recipe's core;
        None when no block is on (the core itself failed) or that variant has run already."""
        code = run.code(parent.id)
        on = [s.name for s in switches(code) if s.value]
        for name in on:
            code = flip(code, name)
        seen = _codes_run(journal, run)
        if not on or _normalised(code) in seen:
            return None
        plan = (f"Node {parent.id} ({parent.title}) failed ({parent.error or 'no cause recorded'}); the same "
                f"recipe with {', '.join(on)} switched off, so that its core runs.")
        return Proposal(title=f"{parent.recipe} core"[:60], plan=plan, code=code, recipe=parent.recipe,
                        sized_to_time=parent.sized_to_time,
                        facts={"switched_off": on})
