"""A tiny parallel corpus: English number words to digits, which a small model learns exactly."""

import csv
import random
from pathlib import Path

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# Flags that make a run take seconds: tiny vocabularies, model and batches.
TINY_FLAGS = [
    "--vocab_size",
    "40",
    "--embedding_dim",
    "8",
    "--units",
    "12",
    "--decoder_units",
    "16",
    "--attention_units",
    "8",
    "--batch_size",
    "8",
    "--epochs",
    "2",
    "--beam_width",
    "3",
    "--embedding_dropout",
    "0",
    "--dropout",
    "0",
    "--output_dropout",
    "0",
]


def number_pairs(count: int, seed: int, max_digits: int = 4) -> list[tuple[str, str]]:
    """("three one four.", "3 1 4 .") pairs of random digit strings."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        digits = [rng.randrange(10) for _ in range(rng.randint(1, max_digits))]
        source = " ".join(WORDS[d] for d in digits).capitalize() + "."
        target = " ".join(str(d) for d in digits) + " ."
        pairs.append((source, target))
    return pairs


def write_tsv(path: Path, pairs, header=("en", "de")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(header)
        writer.writerows(pairs)
    return path


def write_corpus(root: Path, train: int = 400, test: int = 40) -> Path:
    write_tsv(root / "train.tsv", number_pairs(train, seed=1))
    write_tsv(root / "test.tsv", number_pairs(test, seed=2))
    return root
