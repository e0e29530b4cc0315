"""Test scoring of a translator: BLEU and chrF, the copy baseline, samples, attention plots."""

import time
from pathlib import Path
from typing import Callable
from typing import Sequence

import numpy as np
import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.plots import plot_attention
from shared.text_metrics import corpus_scores

EXAMPLES_PLOTTED = 4
EXAMPLES_LISTED = 8
TranslateFn = Callable[[tf.Tensor], dict]


def pairs_of(test: tf.data.Dataset) -> tuple[list[str], list[str]]:
    pairs = list(test.as_numpy_iterator())
    return [s.decode("utf-8") for s, _ in pairs], [t.decode("utf-8") for _, t in pairs]


def translate_all(
    translate: Callable[[tf.Tensor], dict], texts: Sequence[str], batch_size: int
) -> dict[str, list]:
    """Run a `text -> {"translation", ...}` function over `texts` in batches.

    Returns the translations (str) and, per sentence, the other outputs trimmed of padding.
    """
    outputs: dict[str, list] = {
        "translation": [],
        "tokens": [],
        "source_tokens": [],
        "attention": [],
    }
    for start in range(0, len(texts), batch_size):
        batch = translate(tf.constant(list(texts[start : start + batch_size])))
        for i, text in enumerate(batch["translation"].numpy()):
            outputs["translation"].append(text.decode("utf-8"))
            tokens = _pieces(batch["tokens"][i])
            source = _pieces(batch["source_tokens"][i])
            outputs["tokens"].append(tokens)
            outputs["source_tokens"].append(source)
            attention = np.asarray(batch["attention"][i])
            outputs["attention"].append(attention[: len(tokens), : len(source)])
    return outputs


def _pieces(row: tf.Tensor) -> list[str]:
    pieces = [p.decode("utf-8") for p in row.numpy()]
    while pieces and pieces[-1] == "":
        pieces.pop()
    return pieces


def score_translations(
    translate: TranslateFn, sources: Sequence[str], references: Sequence[str], batch_size: int
) -> tuple[dict, dict]:
    """BLEU/chrF of one decoder over the test sentences, with its speed; and its outputs."""
    start = time.perf_counter()
    outputs = translate_all(translate, sources, batch_size)
    seconds = time.perf_counter() - start
    scores = corpus_scores(outputs["translation"], references)
    scores["sentences_per_second"] = round(len(sources) / seconds, 2)
    return scores, outputs


def score_test_split(
    beam: TranslateFn,
    greedy: TranslateFn | None,
    test: tf.data.Dataset,
    config: TranslationConfig,
    plots: Path,
) -> dict:
    """Beam-search (and, given `greedy`, greedy) BLEU and chrF, the copy baseline, a few
    sample translations and the attention plots of the first sentences."""
    sources, references = pairs_of(test)
    metrics, outputs = {}, {}
    decoders = {"beam": beam, **({"greedy": greedy} if greedy else {})}
    for name, translate in decoders.items():
        metrics[name], outputs[name] = score_translations(
            translate, sources, references, config.eval_batch_size
        )
    beam_outputs = outputs["beam"]
    plot_attention(
        [
            (
                beam_outputs["source_tokens"][i],
                beam_outputs["tokens"][i],
                beam_outputs["attention"][i],
            )
            for i in range(min(EXAMPLES_PLOTTED, len(sources)))
        ],
        plots / "attention.png",
    )
    samples = [{"source": s, "reference": r} for s, r in zip(sources, references)]
    for sample, i in zip(samples[:EXAMPLES_LISTED], range(EXAMPLES_LISTED)):
        sample.update({name: outputs[name]["translation"][i] for name in decoders})
    return {
        **metrics,
        "baseline_copy": corpus_scores(sources, references),
        "decoding": {
            "beam_width": config.beam_width,
            "length_penalty": config.length_penalty,
            "max_output_ratio": config.max_output_ratio,
            "max_source_tokens": config.max_source_tokens,
        },
        # Sources of at least --max_source_tokens pieces: translated up to there only.
        "test_sources_cut": sum(
            len(pieces) >= config.max_source_tokens for pieces in beam_outputs["source_tokens"]
        ),
        "sample_translations": samples[:EXAMPLES_LISTED],
        "examples": {"test": len(sources)},
    }
