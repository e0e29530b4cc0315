"""Tiny WAV folders written into the test's temporary directory: one tone shape per label."""

from pathlib import Path

import numpy as np
import pytest

from apps.speech.wav import encode_wav

# Formats real folders hold: (sample rate, channels, bits, float).
FORMATS = [
    (8000, 1, 16, False),
    (16000, 2, 24, False),
    (44100, 1, 32, True),
    (11025, 1, 8, False),
]

# Flags that make a run take seconds: low rate, short clips, tiny network.
TINY_FLAGS = [
    "--sample_rate",
    "8000",
    "--clip_seconds",
    "0.25",
    "--mel_bins",
    "16",
    "--cepstral_coefficients",
    "12",
    "--conv_filters",
    "4",
    "--units",
    "4",
    "--num_layers",
    "1",
    "--attention_units",
    "4",
    "--head_units",
    "8",
    "--batch_size",
    "8",
    "--epochs",
    "2",
    "--patience",
    "2",
]


def keyword(label: str, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """A stand-in for a spoken word: a low tone, a high tone or a rising chirp in silence."""
    time = np.arange(int(seconds * rate)) / rate
    if label == "low":
        wave = np.sin(2 * np.pi * 300 * time)
    elif label == "high":
        wave = np.sin(2 * np.pi * 1800 * time)
    else:
        wave = np.sin(2 * np.pi * (300 + 1500 * time / max(seconds, 1e-3)) * time)
    envelope = np.hanning(len(time))
    return 0.5 * wave * envelope + 0.01 * rng.standard_normal(len(time))


def write_clips(root: Path, split: str, copies: int, labels=("low", "high", "chirp")) -> None:
    rng = np.random.default_rng(len(split) + copies)
    for label in labels:
        folder = root / split / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(copies):
            rate, channels, bits, floating = FORMATS[i % len(FORMATS)]
            seconds = (0.1, 0.2, 0.35)[i % 3]  # shorter and longer than a 0.25 s clip
            wave = keyword(label, seconds, rate, rng)
            if channels == 2:
                wave = np.stack([wave, wave * 0.8], axis=1)
            data = encode_wav(wave, rate, bits=bits, floating=floating)
            (folder / f"{label}_{i}.wav").write_bytes(data)


@pytest.fixture
def clip_folder(tmp_path) -> Path:
    root = tmp_path / "clips"
    write_clips(root, "train", copies=8)
    write_clips(root, "test", copies=4)
    return root
