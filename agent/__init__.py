"""kagglewright: an autonomous Kaggle competitor (the `agent` command)."""

__version__ = "0.1.0"
