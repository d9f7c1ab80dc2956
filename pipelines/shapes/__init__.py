"""Answers that are not a label or number per row: each shape's loading, validation and submission writing."""
