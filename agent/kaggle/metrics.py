"""Kaggle's names for evaluation metrics, mapped onto the canonical names of `pipelines.metrics`.

The API's `evaluation_metric` is a display name ("Area Under Receiver Operating Characteristic
Curve"), sometimes a CamelCase id ("CategorizationAccuracy") or an abbreviation ("RMSE"). Names
are compared after lower-casing and dropping everything but letters and digits, so all three
spellings meet. A name is mapped only when it means exactly one of our metrics; anything else
gives None and the caller infers the metric from the data.
"""

from __future__ import annotations

import re

_ALIASES: dict[str, tuple[str, ...]] = {
    "accuracy": (
        "Categorization Accuracy",
        "Classification Accuracy",
        "Accuracy Score",
        "Multiclass Accuracy",
    ),
    "top1_error": ("Top 1 Error", "Top-1 Error Rate", "Classification Error", "Error Rate", "Misclassification Rate"),
    "auc": (
        "Area Under Receiver Operating Characteristic Curve",
        "Area Under the Receiver Operating Characteristic Curve",
        "Area Under ROC Curve",
        "Area Under the ROC Curve",
        "AUC",
        "AUC ROC",
        "ROC AUC",
        "AUROC",
        "ROC AUC Score",
    ),
    "auc_mean_columnwise": (
        "Mean Columnwise Area Under Receiver Operating Characteristic Curve",
        "Mean Column-wise ROC AUC",
        "Mean Columnwise AUC",
        "Column-averaged AUC",
    ),
    "logloss": ("Log Loss", "Logarithmic Loss", "Binary Log Loss", "Binary Cross Entropy", "Binary Cross-Entropy"),
    "logloss_multiclass": (
        "Multi Class Log Loss",
        "Multiclass Log Loss",
        "Multi-class Logarithmic Loss",
        "Multiclass Loss",
        "Multi Class Loss",
        "Categorical Cross Entropy",
    ),
    "rmse": ("Root Mean Squared Error", "Root Mean Square Error", "RMSE"),
    "rmsle": (
        "Root Mean Squared Logarithmic Error",
        "Root Mean Square Logarithmic Error",
        "Root Mean Squared Log Error",
        "RMSLE",
    ),
    "rmse_log": ("Root Mean Squared Error of the Logarithm", "RMSE of Log"),
    "mae": ("Mean Absolute Error", "MAE"),
    "r2": ("R2", "R2 Score", "R Squared", "R-squared", "Coefficient of Determination"),
    "f1": ("F1", "F1 Score", "F Score", "F-Score", "F1-Score", "Binary F1"),
    "f1_macro": ("Macro F1", "Macro F1 Score", "F1 Macro", "Macro-averaged F1", "Macro F-Score", "Mean F1 Macro"),
    "f1_micro": ("Micro F1", "Micro F1 Score", "F1 Micro", "Micro-averaged F1", "Micro F-Score"),
    "qwk": ("Quadratic Weighted Kappa", "Quadratic Kappa", "QWK", "Cohen Kappa Quadratic"),
    "mcc": ("Matthews Correlation Coefficient", "Matthews Correlation", "MCC"),
    "mcrmse": ("Mean Columnwise Root Mean Squared Error", "MCRMSE"),
    "mcrmsle": ("Mean Columnwise Root Mean Squared Logarithmic Error", "MCRMSLE"),
    "pearson": ("Pearson Correlation Coefficient", "Pearson Correlation", "Pearson", "Pearson R"),
    "spearman_mean_columnwise": (
        "Mean Columnwise Spearman's Correlation Coefficient",
        "Mean Column-wise Spearman Correlation",
        "Mean Columnwise Spearman",
    ),
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_KEY: dict[str, str] = {
    _key(alias): canonical
    for canonical, aliases in _ALIASES.items()
    for alias in (canonical, *aliases)
}


def map_kaggle_metric(name: str | None) -> str | None:
    """Our canonical metric name for Kaggle's `evaluation_metric`, or None when there is no exact match.

    Deliberately unmapped: "Mean F Score" (Kaggle averages an F1 per row over space-separated
    label sets), MAP@K, Dice, IoU and other metrics `pipelines.metrics` does not compute.
    Kaggle's "Log Loss" is also used for several probability columns; it maps to "logloss"
    and the spec inference, which sees the submission's columns, decides whether it is multiclass.
    """
    if not name:
        return None
    return _BY_KEY.get(_key(name))
