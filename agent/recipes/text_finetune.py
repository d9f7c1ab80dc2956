"""A pretrained transformer (all-MiniLM-L6-v2 unless AGENT_TEXT_MODEL names another) fine-tuned on the text,
one model per fold; two paired columns (an anchor and its target) are read together as a cross-encoder on a
GPU, apart as two towers starting from the pretrained similarity on a CPU.

What strong text solutions are built on: the network learns this competition's meaning of words instead
of reusing fixed embeddings. Sized to the node's time: on a CPU the lower layers stay frozen as far as
needed for an epoch per fold (a share of one on large data) to fit; a GPU trains every layer. Needs the `text` extra.
"""

from pipelines.text_finetune import cross_fit_text, texts_of

PARAMS = {"max_epochs": 3, "lr": 2e-4}  # lr: the top block's; each block below learns 0.8 times as fast


def fit_predict(train, test, folds, ctx):
    return cross_fit_text(texts_of(train, ctx.spec), texts_of(test, ctx.spec), ctx.target(train), folds, ctx, **PARAMS)
