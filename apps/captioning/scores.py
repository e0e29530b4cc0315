"""COCO caption scores: BLEU-1..4 and CIDEr-D, as the coco-caption toolkit computes them.

Both follow `pycocoevalcap` (`bleu/bleu_scorer.py`, `cider/cider_scorer.py`) on word lists
that `apps.captioning.captions.scoring_words` made (lower case, punctuation removed) instead
of its Java PTB tokenizer. METEOR and SPICE need Java and are not computed.
"""

import collections
import math
from typing import Sequence

Words = Sequence[str]


def _ngrams(words: Words, n: int) -> collections.Counter:
    return collections.Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def bleu(hypotheses: Sequence[Words], references: Sequence[Sequence[Words]]) -> dict:
    """Corpus BLEU-1..4 with the closest reference length, as coco-caption's `Bleu(4)`."""
    tiny, small = 1e-15, 1e-9
    correct, total = [0] * 4, [0] * 4
    hyp_length = ref_length = 0
    for hyp, refs in zip(hypotheses, references):
        hyp_length += len(hyp)
        # The reference length closest to the hypothesis's (the shorter one on a tie).
        ref_length += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, 5):
            counts = _ngrams(hyp, n)
            most = collections.Counter()
            for ref in refs:
                most |= _ngrams(ref, n)
            correct[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            total[n - 1] += max(len(hyp) - n + 1, 0)
    ratio = (hyp_length + tiny) / (ref_length + small)
    penalty = 1.0 if ratio >= 1 else math.exp(1 - 1 / ratio)
    scores, product = {}, 1.0
    for n in range(1, 5):
        product *= (correct[n - 1] + tiny) / (total[n - 1] + small)
        scores[f"bleu_{n}"] = round(100 * product ** (1 / n) * penalty, 3)
    return scores


def cider_d(
    hypotheses: Sequence[Words], references: Sequence[Sequence[Words]], sigma: float = 6.0
) -> float:
    """CIDEr-D (x10, as reported): tf-idf n-gram similarity, clipped, with a length penalty.

    Document frequencies come from the references of the evaluated images, as in
    coco-caption.
    """
    frequency = collections.Counter()
    for refs in references:
        frequency.update({g for ref in refs for n in range(1, 5) for g in _ngrams(ref, n)})
    log_images = math.log(float(len(references)))

    def vector(words):
        vec, norms = [{} for _ in range(4)], [0.0] * 4
        for n in range(1, 5):
            for gram, tf in _ngrams(words, n).items():
                value = tf * (log_images - math.log(max(1.0, frequency[gram])))
                vec[n - 1][gram] = value
                norms[n - 1] += value**2
        # coco-caption's "length" is the number of bigrams.
        return vec, [math.sqrt(x) for x in norms], max(len(words) - 1, 0)

    def similarity(hyp, ref):
        (vh, nh, lh), (vr, nr, lr) = hyp, ref
        values = []
        for n in range(4):
            value = sum(min(v, vr[n].get(g, 0.0)) * vr[n].get(g, 0.0) for g, v in vh[n].items())
            if nh[n] != 0 and nr[n] != 0:
                value /= nh[n] * nr[n]
            values.append(value * math.exp(-((lh - lr) ** 2) / (2 * sigma**2)))
        return values

    scores = []
    for hyp, refs in zip(hypotheses, references):
        h = vector(hyp)
        total = [0.0] * 4
        for ref in refs:
            total = [a + b for a, b in zip(total, similarity(h, vector(ref)))]
        scores.append(sum(total) / 4 / len(refs) * 10.0)
    return sum(scores) / max(len(scores), 1)


def caption_scores(
    hypotheses: Sequence[Words], references: Sequence[Sequence[Words]]
) -> dict[str, float]:
    """BLEU-1..4 (0-100) and CIDEr-D (0-10) of word lists against several references each."""
    return {**bleu(hypotheses, references), "cider": round(cider_d(hypotheses, references), 4)}
