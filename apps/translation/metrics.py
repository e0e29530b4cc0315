"""Corpus BLEU and chrF with sacrebleu on detokenized text, and the copy baseline."""

from typing import Callable
from typing import Sequence

import numpy as np
import sacrebleu
import tensorflow as tf


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


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """sacrebleu corpus BLEU (13a tokenization, cased) and chrF of detokenized sentences."""
    metric = sacrebleu.BLEU()
    bleu = metric.corpus_score(list(hypotheses), [list(references)])
    chrf = sacrebleu.corpus_chrf(list(hypotheses), [list(references)])
    return {
        "bleu": round(bleu.score, 3),
        "chrf": round(chrf.score, 3),
        "bleu_signature": str(metric.get_signature()),
        "brevity_penalty": round(bleu.bp, 4),
    }
