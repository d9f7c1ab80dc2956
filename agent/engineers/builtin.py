"""The engineer that needs no LLM: proven Kaggle recipes, chosen from the data profile.

Recipes are ordinary solutions (agent/recipes/*.py) that read their columns from `ctx.spec`,
so each is readable and rerunnable on its own and works for any competition it applies to.
"""

from __future__ import annotations

from importlib import resources

from agent.engineers.base import Ask, Brief, Proposal
from agent.journal import Journal
from agent.run_folder import RunFolder
from pipelines.spec import CompetitionSpec


def recipe_code(name: str) -> str:
    return resources.files("agent.recipes").joinpath(f"{name}.py").read_text()


def applicable_recipes(spec: CompetitionSpec) -> list[str]:
    """Recipes worth drafting for this data, most promising first."""
    recipes = []
    if spec.text_columns:
        recipes.append("tfidf_linear")
    if spec.numeric_columns or spec.categorical_columns or spec.datetime_columns or spec.text_columns:
        recipes.append("lightgbm_tabular")
    if spec.modality != "text" and "tfidf_linear" in recipes:
        recipes.reverse()
    return recipes


class BuiltinEngineer:
    name = "builtin"

    def propose(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        if ask.kind != "draft":
            return None
        tried = {n.title for n in journal if n.step == "draft"}
        for name in applicable_recipes(brief.spec):
            if name not in tried:
                code = recipe_code(name)
                return Proposal(title=name, plan=code.split('"""')[1].strip(), code=code)
        return None
