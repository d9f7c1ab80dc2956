"""A pretrained transformer (all-MiniLM-L6-v2 unless AGENT_TEXT_MODEL names another) fine-tuned to point at
the answer's first and last token in the source text; the row's other texts (a question) and categories
(a sentiment) are read first, as a question. The answer is the best-scored span, widened to whole words.

What strong span solutions are built on: the network reads each word in its context instead of scoring
word windows by counts. Sized to each fold's time: on a CPU the lower layers stay frozen as far as needed;
a GPU trains every layer. Needs the `text` extra.
"""

from pipelines.span_finetune import fit_predict_spans

PARAMS = {"max_epochs": 3, "lr": 2e-4}  # lr: the top block's; each block below learns 0.8 times as fast


def fit_predict(train, test, ctx):
    return fit_predict_spans(train, test, ctx, **PARAMS)
