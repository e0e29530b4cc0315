"""The video app's own figure: a few test clips, frame by frame, with where the model looked."""

import os
from typing import Sequence

import numpy as np

from shared.plots import plt
from shared.plots import save_figure

SHOWN_FRAMES = 8


def plot_clip_attention(
    clips: Sequence[tuple[np.ndarray, np.ndarray, str, str]], path: os.PathLike
) -> None:
    """One row per clip: evenly chosen frames, each titled with its attention weight; the
    row is labelled `true -> predicted`. `clips` holds (frames, weights, true, predicted)."""
    figure, axes = plt.subplots(
        len(clips), SHOWN_FRAMES, figsize=(1.6 * SHOWN_FRAMES, 1.9 * len(clips)), squeeze=False
    )
    for row, (frames, weights, true, predicted) in zip(axes, clips):
        shown = np.unique(np.linspace(0, len(frames) - 1, SHOWN_FRAMES).round().astype(int))
        for axis in row:
            axis.axis("off")
        for axis, index in zip(row, shown):
            axis.imshow(frames[index])
            axis.set_title(f"#{index}: {weights[index]:.2f}", fontsize=8)
        row[0].text(
            -0.1,
            0.5,
            f"{true}\n-> {predicted}",
            transform=row[0].transAxes,
            ha="right",
            va="center",
            fontsize=9,
        )
    figure.suptitle("Test clips: frame number and attention weight", fontsize=10)
    save_figure(figure, path)
