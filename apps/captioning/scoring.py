"""Test-split scores of served captions, against every reference, with the baselines and plots."""

import collections
from pathlib import Path
from typing import Callable
from typing import Optional

import numpy as np
import tensorflow as tf

from apps.captioning.captions import scoring_words
from apps.captioning.config import CaptioningConfig
from apps.captioning.data import CaptionData
from apps.captioning.data import warn
from apps.captioning.plots import map_change
from apps.captioning.plots import plot_attention_maps
from apps.captioning.scores import caption_scores
from shared.images import decode_image

PLOTTED = 4  # test images drawn with their attention maps
SAMPLES = 8  # test captions written into metrics.json

CaptionFn = Callable[[tf.Tensor], dict]


def most_frequent_caption(data: CaptionData) -> list[str]:
    """The training caption written most often (in scoring words), the naive baseline."""
    counts = collections.Counter(
        " ".join(scoring_words(c)) for r in data.splits["train"].records for c in r.captions
    )
    best = min(counts, key=lambda caption: (-counts[caption], caption))
    return best.split()


def score_test_split(
    served: CaptionFn,
    greedy: Optional[CaptionFn],
    data: CaptionData,
    config: CaptioningConfig,
    plots: Path,
) -> dict:
    """BLEU-1..4 and CIDEr-D of the served (beam search) captions, of greedy decoding when
    given, and of the most frequent training caption; samples, attention plots."""
    references, beam, fast, samples, changes, unreadable = [], [], [], [], [], []
    batch = []

    def run(batch):
        images = tf.constant([data for _, data in batch], tf.string)
        outputs = {k: v.numpy() for k, v in served(images).items()}
        greedy_captions = greedy(images)["caption"].numpy() if greedy else None
        for i, (record, encoded) in enumerate(batch):
            if not outputs["decoded"][i]:
                unreadable.append(record.name)
                continue
            caption = outputs["caption"][i].decode("utf-8")
            words = [w.decode("utf-8") for w in outputs["words"][i] if w]
            references.append([scoring_words(c) for c in record.captions])
            beam.append(scoring_words(caption))
            if greedy_captions is not None:
                fast.append(scoring_words(greedy_captions[i].decode("utf-8")))
            changes.append(map_change(words, outputs["attention"][i]))
            if len(samples) < SAMPLES:
                samples.append(
                    {"image": record.name, "caption": caption, "references": record.captions}
                )
            if len(references) <= PLOTTED:
                pixels = decode_image(tf.constant(encoded)).numpy()
                path = plots / f"attention_{len(references)}.png"
                plot_attention_maps(pixels, words, outputs["attention"][i][: len(words)], path)

    print(f"Captioning {len(data.splits['test'].records)} test images")
    for item in data.splits["test"].images():
        batch.append(item)
        if len(batch) == config.eval_batch_size:
            run(batch)
            batch = []
    if batch:
        run(batch)
    warn("test images that do not decode (not scored)", unreadable)
    baseline = most_frequent_caption(data)
    metrics = {
        "beam": caption_scores(beam, references),
        "baseline_most_frequent_caption": {
            "caption": " ".join(baseline),
            **caption_scores([baseline] * len(references), references),
        },
        "decoding": {"beam_width": config.beam_width, "length_penalty": config.length_penalty},
        "attention_map_change": round(float(np.mean(changes)) if changes else 0.0, 4),
        "samples": samples,
        "examples": {"test": len(references)},
        "test_data": {"unreadable_images": len(unreadable)},
        "scoring": "BLEU-1..4 (0-100) and CIDEr-D (0-10) as coco-caption computes them, on "
        "lower-cased words without punctuation (no Java PTB tokenizer); METEOR and SPICE need "
        "Java and are not computed",
    }
    if greedy is not None:
        metrics["greedy"] = caption_scores(fast, references)
    return metrics
