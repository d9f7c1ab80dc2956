"""A residual CNN trained on the images themselves, per fold, from scratch (or from a local pretrained backbone), sized to the time limit, with flip test-time augmentation."""

from pipelines.files import file_paths
from pipelines.vision import cross_fit_images

ROTATIONS = False      # vertical flips and quarter turns too: right for aerial, satellite and microscope images
LARGER_IMAGES = False  # the next larger image side: more detail, slower epochs

PARAMS = {"max_epochs": 30, "lr": 0.002, "weight_decay": 0.05}


def fit_predict(train, test, folds, ctx):
    column = ctx.spec.image_columns[0]
    return cross_fit_images(file_paths(train, column), file_paths(test, column), ctx.target(train), folds, ctx,
                            rotations=ROTATIONS, larger=LARGER_IMAGES, **PARAMS)
