"""Corpus BLEU and chrF with sacrebleu, on detokenized text (translation, captioning)."""

from typing import Sequence

import sacrebleu


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
