"""Sound files a competition's rows point to (WAV, AIFF): decoding without a codec library, and
cheap spectral statistics a tree model can use.

Why these statistics: a call (a bird's song, a whale's up-call) is short and narrow-band, so the
recording's mean spectrum barely moves while the loudest frame in the call's band does. Each
band therefore gives its mean and its peak log energy over frames.
"""

from __future__ import annotations

import math
import struct
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

AUDIO_SUFFIXES = {".wav", ".aif", ".aiff"}
BANDS = 24
FRAME = 256


def _extended(raw: bytes) -> float:
    """The 80-bit IEEE extended float AIFF stores the sample rate in."""
    exponent, mantissa = struct.unpack(">HQ", raw)
    sign = -1 if exponent & 0x8000 else 1
    exponent &= 0x7FFF
    return 0.0 if exponent == mantissa == 0 else sign * mantissa * 2.0 ** (exponent - 16383 - 63)


def _read_aiff(path: Path) -> tuple[np.ndarray, float]:
    data = path.read_bytes()
    if data[:4] != b"FORM" or data[8:12] not in (b"AIFF", b"AIFC"):
        raise ValueError("not an AIFF file")
    channels = width = rate = None
    samples = b""
    at = 12
    while at + 8 <= len(data):
        kind, size = data[at:at + 4], struct.unpack(">I", data[at + 4:at + 8])[0]
        body = data[at + 8:at + 8 + size]
        if kind == b"COMM":
            channels, _, bits = struct.unpack(">hIh", body[:8])
            rate, width = _extended(body[8:18]), (bits + 7) // 8
            if data[8:12] == b"AIFC" and body[18:22] not in (b"NONE", b"twos"):
                raise ValueError(f"compressed AIFC ({body[18:22].decode(errors='replace')})")
        elif kind == b"SSND":
            offset = struct.unpack(">I", body[:4])[0]
            samples = body[8 + offset:]
        at += 8 + size + (size & 1)
    if channels is None or width not in (1, 2, 4):
        raise ValueError("no usable COMM chunk")
    values = np.frombuffer(samples[: len(samples) // width * width], dtype={1: ">i1", 2: ">i2", 4: ">i4"}[width])
    return values.reshape(-1, channels).mean(axis=1) / float(2 ** (8 * width - 1)), rate


def _read_wav(path: Path) -> tuple[np.ndarray, float]:
    with wave.open(str(path), "rb") as sound:
        width, channels, rate = sound.getsampwidth(), sound.getnchannels(), sound.getframerate()
        raw = sound.readframes(sound.getnframes())
    if width == 1:  # 8-bit WAV is unsigned
        values = np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128
    else:
        values = np.frombuffer(raw[: len(raw) // width * width], dtype={2: "<i2", 4: "<i4"}[width]).astype(np.float64)
    return values.reshape(-1, channels).mean(axis=1) / float(2 ** (8 * width - 1)), float(rate)


def read_audio(path: str | Path) -> tuple[np.ndarray, float]:
    """Mono samples in [-1, 1] and the sample rate."""
    path = Path(path)
    return (_read_wav if path.suffix.lower() == ".wav" else _read_aiff)(path)


@lru_cache(maxsize=50_000)
def audio_statistics(path: str) -> dict[str, float]:
    """Duration, loudness, and the mean and peak log energy over frames of BANDS equal frequency bands;
    {} for a file that cannot be decoded."""
    try:
        samples, rate = read_audio(path)
    except (OSError, ValueError, EOFError, wave.Error, struct.error):
        return {}
    stats = {"seconds": len(samples) / rate if rate else math.nan, "rms": float(np.sqrt(np.mean(samples ** 2))) if len(samples) else 0.0}
    if len(samples) < FRAME:
        return stats
    frames = np.lib.stride_tricks.sliding_window_view(samples, FRAME)[:: FRAME // 2] * np.hanning(FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bands = np.log1p(np.stack([b.sum(axis=1) for b in np.array_split(power, BANDS, axis=1)], axis=1))
    for k in range(BANDS):
        stats[f"band{k:02d}_mean"], stats[f"band{k:02d}_peak"] = float(bands[:, k].mean()), float(bands[:, k].max())
    return stats
