"""Boxes found by a small CenterNet trained on the images (pipelines.detection): a heatmap of box centres per
class, each centre's width, height and offset, and a pooled head for labels of the whole image (no finding).
Images are read once at a small square side (64 px on a CPU, 128 on a GPU) and each fold trains until its
deadline, so the node uses its time and places boxes where the priors only guess."""

from pipelines.detection import fit_predict as detect
from pipelines.files import file_paths
from pipelines.image_files import cached_images
from pipelines.shapes.boxes import item_sizes, parse, written

LARGER_IMAGES = False  # 96 px on a CPU (192 on a GPU) instead of 64 (128): small findings show, each step slower

SIDE = {"cpu": 96, "cuda": 192} if LARGER_IMAGES else {"cpu": 64, "cuda": 128}
LEARNING_RATE = 2e-3
EPOCHS = 200  # at most; each fold trains until its deadline, or this many epochs when it has none


def fit_predict(train, test, ctx):
    import torch

    if not ctx.spec.image_columns:
        raise ValueError("box_heatmaps needs a column naming each row's image")
    device = "cuda" if ctx.device == "cuda" and torch.cuda.is_available() else "cpu"
    torch.set_num_threads(max(1, ctx.n_jobs))
    column, side = ctx.spec.image_columns[0], SIDE[device]
    paths, new_paths = file_paths(train, column).tolist(), file_paths(test, column).tolist()
    truth = [parse(text) for text in train[ctx.spec.target_columns[0]]]
    deadline = ctx.fit_deadline or ctx.deadline
    found, _ = detect(cached_images(paths, side, 1, ctx.n_jobs), truth, item_sizes(paths),
                      cached_images(new_paths, side, 1, ctx.n_jobs), item_sizes(new_paths),
                      deadline if deadline is not None else float("inf"), device=device, seed=ctx.seed,
                      lr=LEARNING_RATE, max_epochs=EPOCHS)
    return [written(boxes) for boxes in found]
