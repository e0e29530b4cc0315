"""Evaluate a finished translation run again (through its export) and rewrite `metrics.json`.

python -m apps.translation.evaluate --run_dir runs/translation [--data_dir DIR]

The test sentences are sent to the export's `translate_with_attention` signature exactly as a
serving client would send them, so the BLEU reported is the served model's.
"""

import time
from pathlib import Path
from typing import Callable
from typing import Optional
from typing import Sequence

import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.data import load_splits
from apps.translation.decoding import Translator
from apps.translation.metrics import corpus_scores
from apps.translation.metrics import translate_all
from apps.translation.plots import plot_attention
from shared import io
from shared.cli import command
from shared.evaluation import evaluation_parser
from shared.evaluation import finished_run
from shared.evaluation import merged_metrics
from shared.evaluation import run_config
from shared.export import load_signature

EXAMPLES_PLOTTED = 4
EXAMPLES_LISTED = 8


def pairs_of(test: tf.data.Dataset) -> tuple[list[str], list[str]]:
    pairs = list(test.as_numpy_iterator())
    return [s.decode("utf-8") for s, _ in pairs], [t.decode("utf-8") for _, t in pairs]


def score_translations(
    translate: Callable[[tf.Tensor], dict],
    sources: Sequence[str],
    references: Sequence[str],
    batch_size: int,
) -> tuple[dict, dict]:
    """BLEU/chrF of one decoder over the test sentences, with its speed; and its outputs."""
    start = time.perf_counter()
    outputs = translate_all(translate, sources, batch_size)
    seconds = time.perf_counter() - start
    scores = corpus_scores(outputs["translation"], references)
    scores["sentences_per_second"] = round(len(sources) / seconds, 2)
    return scores, outputs


def score_test_split(
    translator: Translator, test: tf.data.Dataset, config: TranslationConfig, plots: Path
) -> dict:
    """Greedy and beam-search BLEU and chrF, the copy baseline, examples and attention plots."""
    sources, references = pairs_of(test)
    text_spec = [tf.TensorSpec([None], tf.string)]
    greedy = tf.function(lambda text: translator.translate(text, 1), input_signature=text_spec)
    beam = tf.function(
        lambda text: translator.translate(text, config.beam_width, config.length_penalty),
        input_signature=text_spec,
    )
    metrics = {}
    metrics["greedy"], greedy_outputs = score_translations(
        greedy, sources, references, config.eval_batch_size
    )
    metrics["beam"], outputs = score_translations(beam, sources, references, config.eval_batch_size)
    metrics.update(report(sources, references, outputs, config, plots))
    metrics["sample_translations"] = [
        {"source": s, "reference": r, "beam": b, "greedy": g}
        for s, r, b, g in zip(
            sources, references, outputs["translation"], greedy_outputs["translation"]
        )
    ][:EXAMPLES_LISTED]
    return metrics


def report(sources, references, outputs, config: TranslationConfig, plots: Path) -> dict:
    """The copy baseline, decoding settings and attention heatmaps of the first sentences."""
    plot_attention(
        [
            (outputs["source_tokens"][i], outputs["tokens"][i], outputs["attention"][i])
            for i in range(min(EXAMPLES_PLOTTED, len(sources)))
        ],
        plots / "attention.png",
    )
    return {
        "baseline_copy": corpus_scores(sources, references),
        "decoding": {
            "beam_width": config.beam_width,
            "length_penalty": config.length_penalty,
            "max_output_ratio": config.max_output_ratio,
        },
        "test_sentences": len(sources),
    }


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = evaluation_parser("python -m apps.translation.evaluate", __doc__)
    args = parser.parse_args(argv)
    run = finished_run(args.run_dir)
    config = run_config(
        TranslationConfig, run, data_dir=args.data_dir, tfds_data_dir=args.tfds_data_dir
    )
    sources, references = pairs_of(load_splits(config).datasets["test"])
    served = load_signature(run, "translate_with_attention")
    scores, outputs = score_translations(
        lambda text: served(text=text), sources, references, config.eval_batch_size
    )
    metrics = {"beam": scores, **report(sources, references, outputs, config, run.plots)}
    metrics = merged_metrics(run, metrics)
    io.write_json(run.metrics, metrics)
    print(
        f"test BLEU {scores['bleu']:.2f} (beam width {config.beam_width}, through the export); "
        f"copy baseline {metrics['baseline_copy']['bleu']:.2f}; wrote {run.metrics}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
