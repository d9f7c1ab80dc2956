"""Which accelerator candidates may use."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache


@lru_cache(maxsize=1)
def detect_device() -> str:
    """'cuda' when an NVIDIA GPU answers, else 'cpu'.

    Asks nvidia-smi rather than importing torch, so the check costs milliseconds and works
    where torch is not installed (LightGBM, XGBoost and CatBoost have GPU builds of their own).
    """
    if shutil.which("nvidia-smi") is None:
        return "cpu"
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "cpu"
    return "cuda" if listed.returncode == 0 and "GPU" in listed.stdout else "cpu"
