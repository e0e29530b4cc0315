"""Evaluate a finished sentiment run again (through its export) and rewrite `metrics.json`.

python -m apps.sentiment.evaluate --run_dir runs/sentiment [--data_dir DIR]
"""

from typing import Callable
from typing import Optional
from typing import Sequence

import numpy as np
import tensorflow as tf

from apps.sentiment.config import SentimentConfig
from apps.sentiment.data import load_splits
from shared.cli import command
from shared.data import labels_of
from shared.evaluation import check_classes
from shared.evaluation import evaluation_parser
from shared.evaluation import finished_run
from shared.evaluation import merged_metrics
from shared.evaluation import run_config
from shared.evaluation import write_classifier_report
from shared.export import load_signature
from shared.metrics import classifier_metrics


def predict_strings(
    serve: Callable[..., dict], texts: tf.data.Dataset, batch_size: int = 64
) -> np.ndarray:
    """Probabilities from a serving signature for a dataset of strings."""
    batches = [serve(text=batch)["probabilities"].numpy() for batch in texts.batch(batch_size)]
    return np.concatenate(batches)


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = evaluation_parser("python -m apps.sentiment.evaluate", __doc__)
    args = parser.parse_args(argv)
    run = finished_run(args.run_dir)
    config = run_config(
        SentimentConfig, run, data_dir=args.data_dir, tfds_data_dir=args.tfds_data_dir
    )
    serve = load_signature(run)
    splits = load_splits(config)
    check_classes(splits.class_names, config.class_names)
    test = splits.datasets["test"]
    probabilities = predict_strings(serve, test.map(lambda text, label: text))
    metrics = classifier_metrics(
        labels_of(test), probabilities, labels_of(splits.datasets["train"]), config.class_names
    )
    metrics = merged_metrics(run, metrics, test_examples=len(probabilities))
    write_classifier_report(run, metrics, config.class_names)
    print(
        f"test accuracy {metrics['accuracy']:.4f} (majority baseline "
        f"{metrics['baseline_majority']['accuracy']:.4f}) -> {run.metrics}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
