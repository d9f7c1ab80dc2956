"""Write a span competition of real tweets, for the span recipes to be measured on real text.

Usage:
    python benchmarks/tweet_spans.py OUT [--qa] [--source ../shared/competitions/nlp-getting-started]
    python benchmarks/recipe_sweep.py --competitions OUT/.. --mlebench /nonexistent --only tweet-spans
    python benchmarks/run_practice.py OUT/.. --only tweet-spans

Why: no span competition with data is at hand (tweet-sentiment-extraction's files are not here), and
generated spans (benchmarks/shape_layouts.py) are found by word counts alone. Here the texts are
real (nlp-getting-started's tweets, with their spelling, URLs and emoji) and the answer needs
reading: the row's `kind` (hashtag, mention, link, number) says which of the tweet's tokens is asked
for, and the answer is the first of that kind. The layout is tweet-sentiment-extraction's: textID,
text, a categorical column, selected_text; word-level Jaccard; 10% of the rows held out as the test.

With --qa the layout is chaii's (question answering over a paragraph): id, context (the tweet among
four others, so sources run past the 128 tokens a CPU trains on), question (the kind asked in words,
then the tweet's start), answer_text and answer_start in train only, a sample asking for
`PredictionString`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

KINDS = {"hashtag": r"#\w+", "mention": r"@\w+", "link": r"https?://\S+", "number": r"\b\d+\b"}
DEFAULT_SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "competitions" / "nlp-getting-started"


def tweet_spans(tweets: pd.Series, seed: int = 0) -> pd.DataFrame:
    """One row per tweet holding a token of some kind: the kind asked for (drawn among those it holds) and its first token."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, text in enumerate(tweets.astype(str)):
        found = {kind: re.search(pattern, text) for kind, pattern in KINDS.items()}
        held = [kind for kind, match in found.items() if match]
        if held:
            kind = held[int(rng.integers(len(held)))]
            rows.append({"textID": f"t{i:05d}", "text": text, "kind": kind, "selected_text": found[kind].group(0)})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def write_competition(frame: pd.DataFrame, out: Path, test_share: float = 0.1) -> None:
    n_test = int(len(frame) * test_share)
    train, test = frame.iloc[:-n_test], frame.iloc[-n_test:]
    (out / "public").mkdir(parents=True, exist_ok=True)
    (out / "private").mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "public" / "train.csv", index=False)
    test.drop(columns=["selected_text"]).to_csv(out / "public" / "test.csv", index=False)
    test[["textID"]].assign(selected_text="").to_csv(out / "public" / "sample_submission.csv", index=False)
    test[["textID", "selected_text"]].to_csv(out / "private" / "answers.csv", index=False)
    (out / "public" / "description.md").write_text(
        "# Tweet spans\n\nFor each tweet, select the text of the first token of the kind asked for in `kind`.\n\n"
        "## Evaluation\n\nThe metric is the word-level Jaccard score, averaged over rows.\n")
    (out / "competition.yaml").write_text("metric: jaccard_word\ndirection: maximize\n")


QUESTIONS = {"hashtag": "Which hashtag does the tweet use?", "mention": "Who is mentioned?",
             "link": "What link is shared?", "number": "What number is given?"}


def question_answering(frame: pd.DataFrame, tweets: pd.Series, seed: int = 0) -> pd.DataFrame:
    """chaii's columns: each answer's tweet placed among four others drawn from `tweets`."""
    rng = np.random.default_rng(seed)
    others = tweets.sample(len(frame) * 4, replace=True, random_state=1).tolist()
    contexts, starts = [], []
    for i, (text, answer) in enumerate(zip(frame["text"], frame["selected_text"])):
        parts = others[4 * i:4 * i + 4]
        parts.insert(int(rng.integers(0, 5)), text)
        context = " ".join(parts)
        contexts.append(context)
        starts.append(context.find(text) + text.find(answer))
    return pd.DataFrame({"id": frame["textID"], "context": contexts,
                         "question": [QUESTIONS[k] + " " + t[:30] for k, t in zip(frame["kind"], frame["text"])],
                         "answer_text": frame["selected_text"], "answer_start": starts, "language": "english"})


def write_question_answering(qa: pd.DataFrame, out: Path, test_share: float = 0.1) -> None:
    n_test = len(qa) // round(1 / test_share)
    (out / "public").mkdir(parents=True, exist_ok=True)
    (out / "private").mkdir(parents=True, exist_ok=True)
    qa.iloc[:-n_test].to_csv(out / "public" / "train.csv", index=False)
    qa.iloc[-n_test:].drop(columns=["answer_start", "answer_text"]).to_csv(out / "public" / "test.csv", index=False)
    answers = qa.iloc[-n_test:][["id", "answer_text"]].rename(columns={"answer_text": "PredictionString"})
    answers.to_csv(out / "private" / "answers.csv", index=False)
    answers.assign(PredictionString="dummy text").to_csv(out / "public" / "sample_submission.csv", index=False)
    (out / "public" / "description.md").write_text("# QA\n\n## Evaluation\n\nThe metric is the word-level Jaccard score.\n")
    (out / "competition.yaml").write_text("metric: jaccard_word\ndirection: maximize\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the competition folder to write (its name is the competition's id)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a folder with public/train.csv of tweets")
    parser.add_argument("--qa", action="store_true", help="chaii's layout: the tweet in a paragraph of five")
    args = parser.parse_args()
    tweets = pd.read_csv(args.source / "public" / "train.csv")["text"]
    frame = tweet_spans(tweets)
    if args.qa:
        write_question_answering(question_answering(frame, tweets), args.out)
    else:
        write_competition(frame, args.out)
    print(f"{args.out}: {len(frame)} rows; kinds {frame['kind'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
