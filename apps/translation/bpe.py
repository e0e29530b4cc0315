"""Learn a subword vocabulary with byte-pair encoding (Sennrich et al., 2016) on word counts."""

import collections
import heapq
from typing import Iterable


def learn_bpe_vocabulary(
    word_counts: dict[str, int], vocab_size: int, *, min_pair_count: int = 2
) -> list[str]:
    """Subword pieces for `word_counts`: every character seen, then merges, most frequent first.

    Merging stops when the pieces reach `vocab_size` or no adjacent pair occurs
    `min_pair_count` times. Every word can be written with the result (all its characters are
    in it), and frequent words usually end up as one piece. Ties break on the pair itself, so
    the vocabulary is the same on every run.
    """
    words = [list(word) for word in word_counts]
    counts = list(word_counts.values())
    pieces = sorted({char for word in words for char in word})
    pair_counts: collections.Counter = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for index, word in enumerate(words):
        _count_pairs(word, counts[index], index, pair_counts, where)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    known = set(pieces)
    while len(pieces) < vocab_size and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:
            continue  # stale entry: the count changed after it was pushed
        if -negative < min_pair_count:
            break
        merged = pair[0] + pair[1]
        for index in list(where.pop(pair, ())):
            word = words[index]
            _count_pairs(word, -counts[index], index, pair_counts, where)
            words[index] = word = _merge(word, pair, merged)
            for new_pair in _count_pairs(word, counts[index], index, pair_counts, where):
                heapq.heappush(heap, (-pair_counts[new_pair], new_pair))
        pair_counts.pop(pair, None)
        if merged not in known:
            known.add(merged)
            pieces.append(merged)
    return pieces


def _count_pairs(
    word: list[str],
    count: int,
    index: int,
    pair_counts: collections.Counter,
    where: dict,
) -> Iterable[tuple[str, str]]:
    """Add `count` (negative to remove) for each adjacent pair of `word`; return the pairs."""
    pairs = list(zip(word, word[1:]))
    for pair in pairs:
        pair_counts[pair] += count
        if count > 0:
            where[pair].add(index)
        elif pair_counts[pair] <= 0:
            del pair_counts[pair]
    return set(pairs)


def _merge(word: list[str], pair: tuple[str, str], merged: str) -> list[str]:
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(merged)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out
