"""A small U-Net trained from scratch on the items' images, predicting a probability per pixel: its image side and epochs sized to the time it is given, horizontal flips as augmentation and at prediction, a row's categories (the class whose mask it asks for) as constant planes; the harness fits the probability cut and the smallest mask on the held-out items."""

from pipelines.segmentation import UNetSegmenter
from pipelines.shapes.masks import read_images, with_row_categories

CONTINUE_TRAINING = False  # start from the weights the last U-Net of this run fitted on the same items
VERTICAL_FLIPS = False     # right where up and down look alike (aerial, microscope); wrong for seismic or street scenes

PARAMS = {"width": 8, "depth": 4, "lr": 0.003, "epochs": 30, "batch_size": 32}


def features(train, test, ctx):
    return with_row_categories(read_images(train, ctx), read_images(test, ctx), train, test, ctx)


def model(params, ctx):
    return UNetSegmenter(ctx, vertical_flips=VERTICAL_FLIPS, continue_training=CONTINUE_TRAINING, **params)
