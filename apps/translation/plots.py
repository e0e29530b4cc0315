"""Translation figures: attention heatmaps of a few test sentences."""

import os
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from shared.plots import save_figure


def plot_attention(
    examples: Sequence[tuple[Sequence[str], Sequence[str], np.ndarray]], path: os.PathLike
) -> None:
    """One heatmap per `(source pieces, output pieces, weights [output, source])`."""
    count = max(len(examples), 1)
    figure, axes = plt.subplots(1, count, figsize=(5.5 * count, 5), squeeze=False)
    for axis, (source, output, weights) in zip(axes[0], examples):
        if not len(output):
            axis.set_title("(empty output)")
            axis.set_axis_off()
            continue
        axis.imshow(weights, cmap="viridis", aspect="auto", vmin=0, vmax=1)
        axis.set_xticks(range(len(source)), [p or "[END]" for p in source], rotation=90, fontsize=7)
        axis.set_yticks(range(len(output)), [p or "[END]" for p in output], fontsize=7)
        axis.set_xlabel("source")
        axis.set_ylabel("output")
    figure.tight_layout()
    save_figure(figure, path)
