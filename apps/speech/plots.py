"""Speech figures: a few test clips as waveform, log-mel spectrogram and attention over time."""

import os
from typing import Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from apps.speech.config import SpeechConfig
from apps.speech.model import explain_model
from shared.plots import save_figure

EXAMPLES_PLOTTED = 4


def plot_examples(
    clips: np.ndarray,
    features: np.ndarray,
    attention: np.ndarray,
    titles: Sequence[str],
    sample_rate: int,
    path: os.PathLike,
) -> None:
    """One column per clip: waveform, log-mel features `[frames, bands]`, attention `[frames]`."""
    count = len(clips)
    figure, axes = plt.subplots(3, count, figsize=(3.2 * count, 7), squeeze=False)
    for column in range(count):
        seconds = np.arange(len(clips[column])) / sample_rate
        wave, spectrum, weights = axes[0, column], axes[1, column], axes[2, column]
        wave.plot(seconds, clips[column], linewidth=0.5)
        wave.set_title(titles[column], fontsize=9)
        wave.set_xlim(seconds[0], seconds[-1])
        wave.set_ylabel("amplitude" if column == 0 else "")
        spectrum.imshow(features[column].T, origin="lower", aspect="auto", cmap="magma")
        spectrum.set_ylabel("mel band" if column == 0 else "")
        weights.plot(attention[column])
        weights.fill_between(np.arange(len(attention[column])), attention[column], alpha=0.3)
        weights.set_xlim(0, len(attention[column]) - 1)
        weights.set_xlabel("frame")
        weights.set_ylabel("attention" if column == 0 else "")
    figure.tight_layout()
    save_figure(figure, path)


def plot_test_examples(
    model: keras.Model, test: tf.data.Dataset, config: SpeechConfig, path: os.PathLike
) -> None:
    """Waveform, spectrogram and attention of the first test clips of different classes."""
    picked, seen = [], set()
    for clip, label in test.as_numpy_iterator():
        if int(label) not in seen or len(seen) == len(config.class_names):
            seen.add(int(label))
            picked.append((clip, int(label)))
        if len(picked) == EXAMPLES_PLOTTED:
            break
    clips = np.stack([clip for clip, _ in picked])
    features, attention = explain_model(model).predict({"audio": clips}, verbose=0)
    probabilities = model.predict({"audio": clips}, verbose=0)
    titles = [
        f"true {config.class_names[label]}, said {config.class_names[int(p.argmax())]}"
        for (_, label), p in zip(picked, probabilities)
    ]
    plot_examples(clips, features, attention, titles, config.sample_rate, path)
