"""Classification metrics computed from predicted probabilities (numpy only)."""

from typing import Sequence

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts `[true class, predicted class]`."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def classification_report(
    labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> dict:
    """Accuracy, cross-entropy loss, per-class precision/recall/F1 and the confusion matrix."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predictions = probabilities.argmax(axis=-1)
    matrix = confusion_matrix(labels, predictions, len(class_names))
    true_positives = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(
        true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0
    )
    recall = np.divide(true_positives, actual, out=np.zeros_like(true_positives), where=actual > 0)
    f1_denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall,
        f1_denominator,
        out=np.zeros_like(precision),
        where=f1_denominator > 0,
    )
    picked = probabilities[np.arange(len(labels)), labels]
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(actual[i]),
        }
        for i, name in enumerate(class_names)
    }
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "loss": float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0)))),
        "macro_f1": float(np.mean(f1)),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def top_k_accuracy(labels: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    top = np.argsort(-np.asarray(probabilities), axis=-1)[:, :k]
    return float(np.mean(np.any(top == np.asarray(labels)[:, None], axis=-1)))


def majority_baseline(
    train_labels: np.ndarray, test_labels: np.ndarray, class_names: Sequence[str]
) -> dict:
    """Always predict the most frequent training class; its accuracy on the test labels."""
    counts = np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=len(class_names))
    majority = int(counts.argmax())
    return {
        "class": class_names[majority],
        "accuracy": float(np.mean(np.asarray(test_labels) == majority)),
    }


def classifier_metrics(
    labels: np.ndarray,
    probabilities: np.ndarray,
    train_labels: np.ndarray,
    class_names: Sequence[str],
    *,
    top_k: int = 1,
) -> dict:
    """`metrics.json` content of a classifier on its test split, with the majority baseline.

    With `top_k > 1`, also `top<k>_accuracy` (the true class among the k most probable).
    """
    metrics = classification_report(labels, probabilities, class_names)
    if top_k > 1:
        metrics[f"top{top_k}_accuracy"] = top_k_accuracy(labels, probabilities, top_k)
    metrics["baseline_majority"] = majority_baseline(train_labels, labels, class_names)
    return metrics
