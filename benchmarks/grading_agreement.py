"""Check that `agent grade` agrees with a reference grader on real competitions.

Usage:
    python benchmarks/grading_agreement.py <competitions_dir>

<competitions_dir> holds practice competitions in MLE-bench layout and their reference
grader `grade.py` (prints one JSON line with `score` and `valid`). For every competition,
submissions are made from its files (sample submission, answers, shuffled answers, a file cut
short, broken files, wrong labels, ...); both graders grade each one, and the script prints a
table and exits 1 if they disagree on validity or on the score (to the 5 decimals MLE-bench
keeps).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from agent.grading import grade_submission


def _variants(comp: Path) -> dict[str, Callable[[Path], None]]:
    """name -> function writing that submission to the given path."""
    sample_path = comp / "public" / "sample_submission.csv"
    answers_path = comp / "private" / "answers.csv"
    sample = pd.read_csv(sample_path, dtype=str, keep_default_na=False)
    answers = pd.read_csv(answers_path, dtype=str, keep_default_na=False)
    id_col, target = answers.columns[0], answers.columns[1]
    text = answers_path.read_text()

    def frame(df: pd.DataFrame) -> Callable[[Path], None]:
        return lambda path: df.to_csv(path, index=False)

    def raw(content: str) -> Callable[[Path], None]:
        return lambda path: path.write_text(content)

    def with_target(values) -> pd.DataFrame:
        return answers.assign(**{target: values})

    numeric = pd.to_numeric(answers[target], errors="coerce")
    variants = {
        "sample_submission": frame(sample),
        "answers": frame(answers),
        "answers_shuffled": frame(answers.sample(frac=1, random_state=0)),
        "first_50_lines": raw("".join(sample_path.read_text().splitlines(keepends=True)[:50])),
        "cut_mid_line": raw(text[: len(text) // 2]),
        "empty_file": raw(""),
        "header_only": raw(f"{id_col},{target}\n"),
        "misspelled_column": frame(answers.rename(columns={target: target + "x"})),
        "extra_column": frame(answers.assign(extra=1)),
        "duplicated_id": frame(pd.concat([answers.iloc[:-1], answers.iloc[:1]])),
        "unknown_id": frame(answers.assign(**{id_col: answers[id_col].where(
            answers.index != 0, "no-such-id")})),
        "empty_label": frame(with_target(answers[target].where(answers.index != 0, ""))),
        "float_ids": frame(answers.assign(**{id_col: answers[id_col] + ".0"})),
    }
    if numeric.notna().all() and set(answers[target]) - {"0", "1"}:  # a regression target
        variants |= {
            "ten_percent_high": frame(with_target(numeric * 1.1)),
            "non_positive": frame(with_target(numeric.where(answers.index != 0, 0))),
            "non_numeric": frame(with_target(answers[target].where(answers.index != 0, "abc"))),
        }
    else:  # binary labels
        as_bool = answers[target].str.lower().isin(["1", "true"])
        variants |= {
            "labels_true_false": frame(with_target(as_bool.map({True: "True", False: "False"}))),
            "labels_lower_case": frame(with_target(as_bool.map({True: "true", False: "false"}))),
            "labels_0_1": frame(with_target(as_bool.astype(int))),
            "probabilities": frame(with_target(as_bool * 0.8 + 0.1)),
        }
    return variants


def _reference(grader: Path, comp: Path, submission: Path) -> dict:
    out = subprocess.run([sys.executable, str(grader), str(comp), str(submission)],
                         capture_output=True, text=True, check=False)
    return json.loads(out.stdout)


def main(competitions_dir: Path) -> int:
    grader = competitions_dir / "grade.py"
    disagreements = 0
    print(f"{'competition':45} {'submission':20} {'reference':>18} {'agent grade':>18}")
    with tempfile.TemporaryDirectory() as tmp:
        for comp in sorted(p for p in competitions_dir.iterdir() if (p / "private").is_dir()):
            cases = _variants(comp) | {"missing_file": None}
            for name, write in cases.items():
                path = Path(tmp) / f"{comp.name}-{name}.csv"
                if write is not None:
                    write(path)
                ref = _reference(grader, comp, path)
                ours = grade_submission(comp, path)
                ref_score = None if ref["score"] is None else round(ref["score"], 5)
                agree = ref["valid"] == ours.valid and ref_score == ours.score
                disagreements += not agree
                show = lambda valid, score: f"{score}" if valid else "invalid"  # noqa: E731
                print(f"{comp.name:45} {name:20} {show(ref['valid'], ref_score):>18} "
                      f"{show(ours.valid, ours.score):>18}{'' if agree else '  DISAGREE'}")
    print(f"{disagreements} disagreement(s)")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
