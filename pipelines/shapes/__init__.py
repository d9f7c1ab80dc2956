"""Answers that are not a label or number per row: how the harness validates and writes each shape.

`spec.answer_shape` names the shape (decided once, in agent/understand.py); each shape's module
holds its cross-validation, its prior (what a run submits before any candidate has run) and
what the solutions it runs must offer. The harness only dispatches here.
"""

from __future__ import annotations

STRING_SHAPES = ("span", "string", "boxes")  # boxes: see pipelines.shapes.boxes
# Answers whose models predict a label or number per row (label lists are only written differently): these
# shapes are tuned and ensembled like rows.
ROW_MODEL_SHAPES = ("rows", "labels")
