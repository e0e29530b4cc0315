"""What the classifier apps' evaluation shares: probabilities through the export, the report."""

from pathlib import Path
from typing import Callable
from typing import Sequence

import numpy as np
import tensorflow as tf

from shared.metrics import classifier_metrics
from shared.plots import plot_confusion_matrix


def served_probabilities(
    serve: Callable[..., dict], examples: tf.data.Dataset, input_name: str, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """`(labels, probabilities)` of unbatched `(input, label)` examples sent to `serve`."""
    labels, batches = [], []
    for inputs, label in examples.batch(batch_size):  # one pass: read each example once
        batches.append(serve(**{input_name: inputs})["probabilities"].numpy())
        labels.append(label.numpy())
    return np.concatenate(labels), np.concatenate(batches)


def classifier_report(
    labels: np.ndarray,
    probabilities: np.ndarray,
    train_labels: np.ndarray,
    class_names: Sequence[str],
    plots: Path,
    *,
    top_k: int = 1,
) -> dict:
    """Test metrics of a classifier with its majority baseline; plots its confusion matrix."""
    metrics = classifier_metrics(labels, probabilities, train_labels, class_names, top_k=top_k)
    metrics["examples"] = {"test": int(len(labels))}
    plot_confusion_matrix(metrics["confusion_matrix"], class_names, plots / "confusion_matrix.png")
    return metrics


def print_classes(
    names: Sequence[str], labels: np.ndarray, probabilities: np.ndarray, class_names, top: int = 0
) -> None:
    """One line per input: label, the class probabilities (the `top` most probable), name."""
    for name, label, row in zip(names, labels, probabilities):
        order = np.argsort(-row)[:top] if top else range(len(class_names))
        scores = "  ".join(f"{class_names[i]}={row[i]:.3f}" for i in order)
        print(f"{label.decode()}\t{scores}\t{name}")
