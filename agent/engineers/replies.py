"""Reading an LLM's reply: title, plan and solution code, whatever shape the reply takes.

Real replies put code in one fenced block, in several (imports apart from functions, a snippet
then the full file), in a block the reply never closes (cut off at the token limit), or bare
with no fence at all. `parse_reply` finds the code; `code_problem` says, in one line, why code
cannot run (a syntax error, a missing function of the contract) without spending a sandbox run
on it.
"""

from __future__ import annotations

import ast
import builtins
import re
import traceback
from dataclasses import dataclass

FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.S | re.M)
PYTHON_TAGS = {"", "python", "python3", "py", "ipython"}
TITLE = re.compile(r"^[ \t]*[#*_ ]*title[*_ ]*:[*_ ]*(.+?)[*_ ]*$", re.I | re.M)
PLAN_LABEL = re.compile(r"^[ \t]*[#*_ ]*plan[*_ ]*:?[*_ ]*", re.I)
UNCLEAR = re.compile(r"^[ \t]*[#*_ ]*unclear[*_ ]*:[*_ ]*(.*?)[*_ ]*$", re.I | re.M)
CONTRACT_DEF = re.compile(r"^def (features|model|fit_predict)\s*\(", re.M)
MAX_TITLE = 60


@dataclass
class ParsedReply:
    title: str
    plan: str
    code: str  # empty when the reply holds no code
    unclear: str = ""  # what the model said the prompt left unclear, for the people improving it


def _blocks(text: str) -> list[str]:
    return [body.strip("\n") for tag, body in FENCE.findall(text) if tag.lower() in PYTHON_TAGS and body.strip()]


def _defines_contract(code: str) -> bool:
    names = set(CONTRACT_DEF.findall(code))
    return "fit_predict" in names or {"features", "model"} <= names


def _looks_like_code(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return bool(CONTRACT_DEF.search(text))


def _free_names(code: str) -> set[str] | None:
    """Names the code uses but never binds (roughly: scopes are ignored); None if it does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    used, bound = set(), set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return used - bound


def extract_code(text: str) -> str:
    """The solution file in a reply.

    The last fenced block holding the whole contract, unless it leans on names that only the
    reply's other blocks define (imports in a block of their own): then every Python block,
    joined in order. With no such block, every Python block joined; with no fence, the reply
    itself when it is bare code.
    """
    blocks = _blocks(text)
    joined = "\n\n".join(blocks)
    complete = [b for b in blocks if _defines_contract(b)]
    if complete:
        best = complete[-1]
        missing, missing_joined = _free_names(best), _free_names(joined)
        if missing and missing_joined is not None and len(missing_joined) < len(missing):
            best = joined
        return best + "\n"
    if blocks:
        return joined + "\n"
    return text.strip() + "\n" if _looks_like_code(text.strip()) else ""


def parse_reply(text: str) -> ParsedReply:
    code = extract_code(text)
    first_fence = re.search(r"^[ \t]*```", text, re.M)
    prose = text[: first_fence.start()] if first_fence else ("" if code else text)
    found = TITLE.search(prose)
    title = found.group(1).strip() if found else ""
    if found:
        prose = prose[: found.start()] + prose[found.end():]
    unclear = UNCLEAR.search(prose)
    if unclear:
        prose = prose[: unclear.start()] + prose[unclear.end():]
    plan = PLAN_LABEL.sub("", prose.strip(), count=1).strip()
    if not title:
        title = plan.split("\n", 1)[0].strip(" #*.") if plan else ""
    return ParsedReply(title=_shorten(title), plan=plan, code=code, unclear=unclear.group(1).strip() if unclear else "")


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip() + "…"


@dataclass
class CodeProblem:
    error: str  # one line, for the journal and the next prompt
    details: str  # what a person (or the debugging LLM) needs to see, e.g. the caret under the error


def code_problem(code: str) -> CodeProblem | None:
    """Why `code` cannot be a solution, found without running it; None when it may run."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        details = "".join(traceback.format_exception_only(type(exc), exc))
        return CodeProblem(f"SyntaxError: {exc.msg} (line {exc.lineno})", details)
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if "fit_predict" in defined or {"features", "model"} <= defined:
        return None
    if "features" in defined:
        missing = "model(params, ctx)"
    elif "model" in defined:
        missing = "features(train, test, ctx)"
    else:
        missing = "features(train, test, ctx) and model(params, ctx) (or fit_predict(train, test, folds, ctx))"
    error = f"the solution does not define {missing} at module level"
    return CodeProblem(error, error + f"; it defines: {', '.join(sorted(defined)) or 'no functions'}")
