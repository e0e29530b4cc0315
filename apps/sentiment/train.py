"""Train a review sentiment classifier, evaluate it on the test split and export it for serving.

python -m apps.sentiment.train                               # TFDS imdb_reviews
python -m apps.sentiment.train --data_dir DIR                # DIR/<split>/<label>/*.txt
"""

import dataclasses
from typing import Optional
from typing import Sequence

from apps.sentiment.config import SentimentConfig
from apps.sentiment.data import load_splits
from apps.sentiment.data import make_dataset
from apps.sentiment.data import make_vectorizer
from apps.sentiment.export import export_model
from apps.sentiment.model import build_model
from apps.sentiment.model import compile_model
from shared import io
from shared.cli import command
from shared.cli import parse_config
from shared.data import labels_of
from shared.evaluation import write_classifier_report
from shared.metrics import classifier_metrics
from shared.plots import plot_history
from shared.training import finish_run
from shared.training import fit
from shared.training import prepare_run
from shared.training import run_summary


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    config = parse_config(SentimentConfig, argv, __doc__, prog="python -m apps.sentiment.train")
    splits = load_splits(config)
    config = dataclasses.replace(config, class_names=splits.class_names)
    run = prepare_run(config)

    texts = splits.datasets["train"].map(lambda text, label: text)
    vectorizer = make_vectorizer(texts, config.vocab_size)
    data = {
        split: make_dataset(examples, vectorizer, config, training=split == "train")
        for split, examples in splits.datasets.items()
    }
    model = build_model(
        config, vocab_size=vectorizer.vocabulary_size(), num_classes=len(config.class_names)
    )
    compile_model(model, config)
    result = fit(
        model, data["train"], data["val"], config, num_train_examples=splits.counts["train"]
    )
    plot_history(result.history, run.plots / "training_curves.png", result.best_epoch)

    probabilities = model.predict(data["test"], verbose=0)
    metrics = classifier_metrics(
        labels_of(data["test"]),
        probabilities,
        labels_of(splits.datasets["train"]),
        config.class_names,
    )
    metrics.update(run_summary(result, splits.counts))
    metrics["vocabulary_size"] = vectorizer.vocabulary_size()
    export_dir = export_model(model, vectorizer, config, run.export)
    metrics["export"] = str(export_dir)
    write_classifier_report(run, metrics, config.class_names)
    io.write_text(run.root / "vocabulary.txt", "\n".join(vectorizer.get_vocabulary()) + "\n")
    finish_run(run)
    print(
        f"test accuracy {metrics['accuracy']:.4f} (majority baseline "
        f"{metrics['baseline_majority']['accuracy']:.4f}); run directory {run.root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
