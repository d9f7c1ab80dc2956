"""What a competition asks for, in one typed object shared by the agent and every solution."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Task = Literal["binary", "multiclass", "multilabel", "regression", "text"]
Modality = Literal["tabular", "text", "image", "mixed"]
SubmissionKind = Literal["label", "proba", "value"]
# rows: a label or number per row; span: a substring of an input text per row; string: free text per row;
# sequence: a value per position of each item, read as a row per position (pipelines.shapes.sequences);
# mask: a run-length encoded mask per image (pipelines.shapes.masks); labels: space-separated labels per row,
# ranked or a set (pipelines.shapes.label_lists).
AnswerShape = Literal["rows", "span", "string", "sequence", "mask", "labels", "boxes"]


class CompetitionSpec(BaseModel):
    """Everything the harness must get right: columns, task, metric, and the submission format.

    `classes` are the target's original values in a fixed order (sorted); predictions for
    binary and multiclass tasks are indexed by position in this list, and the positive class of
    a binary task is `classes[1]`. For multilabel tasks `classes` are the label columns, and so they are
    for a multiclass target given as one 0/1 column per class (several target columns).
    """

    slug: str
    data_dir: Path
    train_file: Path
    test_file: Path
    sample_submission_file: Path
    description: str = ""

    id_column: str
    row_order_key: bool = Field(
        False, description="the sample has no id of its own: its rows are test's rows in test's order, matched "
                           "by position; `id_column` is then only the test column that best names them")
    pooled_rows: bool = Field(
        False, description="test has several rows for some sample ids (a breast's images): the submission "
                           "answers each id with its rows' mean prediction (their most common label)")
    placeholder_parts: list[str] = Field(
        default_factory=list, description="parts of `<item>_<part>` ids no train row has (siim-covid19's `_study` "
                                          "rows beside its `_image` ones): those rows keep the sample's answers")
    target_columns: list[str]
    task: Task
    modality: Modality = "tabular"
    classes: list[Any] = Field(default_factory=list)
    source_column: str | None = Field(
        None, description="span: the input text column each answer is a span of; string: the input column "
                          "each answer rewrites (text normalisation's `before`), if any")

    submission_columns: list[str]
    submission_kind: SubmissionKind
    spread_column: str | None = Field(
        None, description="the sample's answer column that says how sure each value is (osic's Confidence), "
                          "for metrics that score both: never a target, fitted out of fold from the residuals")
    passthrough_columns: list[str] = Field(
        default_factory=list, description="sample submission columns that repeat the test row's own values; "
                                          "copied into the submission, never predicted")

    metric: str
    direction: Literal["maximize", "minimize"]

    answer_shape: AnswerShape = Field(
        "rows", description="what one answer is (see AnswerShape); masks are written as run-length strings "
                            "(pipelines.shapes.masks)")
    mask_order: Literal["F", "C"] = Field(
        "F", description="pixel order of the run-length strings: F numbers pixels down each column first "
                         "(Kaggle's usual), C along each row")
    empty_mask: str = Field(
        "", description="how the submission writes an empty mask: the sample's `-` (contrails; a blank cell would "
                        "read back as a missing value), else nothing")
    image_size: tuple[int, int] | None = Field(
        None, description="(height, width) masks are modelled at: the size most items' images share")
    mixed_image_sizes: bool = Field(
        False, description="some images have another size: resized to `image_size`, their masks back to theirs")

    text_columns: list[str] = Field(default_factory=list)
    categorical_columns: list[str] = Field(default_factory=list)
    numeric_columns: list[str] = Field(default_factory=list)
    datetime_columns: list[str] = Field(default_factory=list)
    file_columns: list[str] = Field(
        default_factory=list, description="columns naming files (the id column too when ids name files); "
                                          "their resolved paths are in `<column>__path` (pipelines.files)")
    image_columns: list[str] = Field(default_factory=list, description="the file columns whose files are images")
    group_column: str | None = None
    time_column: str | None = None
    column_pairs: list[tuple[str, str]] = Field(
        default_factory=list, description="phrase or text columns drawn from one vocabulary (an anchor and its "
                                          "target): how alike their values are is a feature")
    target_bounds: tuple[float | None, float | None] = Field(
        (None, None), description="limits a regression target cannot pass, read from train: 0 below for amounts "
                                  "never negative, and 1 above for shares; predictions are clipped to them")
    auxiliary_columns: list[str] = Field(
        default_factory=list, description="numeric train columns that test lacks and that are not targets "
                                          "(`casual` beside `count`, further labels): answers known for train "
                                          "rows only, which out-of-fold predictions of them turn into inputs")

    sources: dict[str, str] = Field(
        default_factory=dict, description="where each decided field came from: flag, yaml, registry, kaggle, inferred"
    )

    @property
    def feature_columns(self) -> list[str]:
        """Columns a solution may use as inputs: everything but the targets, and the id unless it names files."""
        return self.text_columns + self.categorical_columns + self.numeric_columns + self.datetime_columns + self.file_columns

    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass", "multilabel")

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "maximize"
