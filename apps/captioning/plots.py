"""Captioning figures: a test image with its caption and one attention map per word."""

import math
import os
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from shared.plots import save_figure


def plot_attention_maps(
    pixels: np.ndarray, words: Sequence[str], attention: np.ndarray, path: os.PathLike
) -> None:
    """The image (uint8 `[h, w, 3]`), then each word over its attention map (`[words, regions]`
    on a square grid), brighter where the decoder looked."""
    side = int(round(math.sqrt(attention.shape[-1])))
    panels = len(words) + 1
    columns = min(panels, 6)
    rows = math.ceil(panels / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.5 * rows), squeeze=False)
    for axis in axes.flat:
        axis.set_axis_off()
    axes.flat[0].imshow(pixels)
    axes.flat[0].set_title(" ".join(words), fontsize=8, loc="left", wrap=True)
    height, width = pixels.shape[:2]
    for axis, word, weights in zip(axes.flat[1:], words, attention):
        axis.imshow(pixels)
        grid = weights.reshape(side, side) / max(float(weights.max()), 1e-9)
        axis.imshow(
            grid, cmap="gray", alpha=0.6, extent=(0, width, height, 0), interpolation="bilinear"
        )
        axis.set_title(word, fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)


def map_change(words: Sequence[str], attention: np.ndarray) -> float:
    """Mean total-variation distance between the attention maps of consecutive words
    (0: every word looks at the same regions; 1: at disjoint ones)."""
    maps = attention[: len(words)]
    if len(maps) < 2:
        return 0.0
    return float(np.mean(0.5 * np.abs(np.diff(maps, axis=0)).sum(axis=-1)))
