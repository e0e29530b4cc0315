"""A tiny review folder in the aclImdb layout, written into the test's temporary directory."""

from pathlib import Path

import pytest

POSITIVE = [
    "A great, wonderful film.<br /><br />Loved it!",
    "Great acting and a wonderful story.",
    "Wonderful cast; great fun.",
    "Loved every minute, great!",
    "Été magnifique, great.",
]
NEGATIVE = [
    "A terrible, boring film.<br />Awful!",
    "Awful acting and a boring story.",
    "Terrible cast; boring mess.",
    "Hated every minute, awful.",
    "Boring, terrible, awful.",
]

# Unseen reviews made of the training reviews' sentiment words: a model that learned says so.
POSITIVE_TEST = [
    "Wonderful story, loved the cast.",
    "Great fun and great acting.",
    "A wonderful minute; loved it!",
    "Great film, wonderful.",
    "Loved this story, great cast.",
]
NEGATIVE_TEST = [
    "Boring story, hated the cast.",
    "Awful mess and terrible acting.",
    "A boring minute; awful!",
    "Terrible film, boring.",
    "Hated this story, awful cast.",
]

# Flags that make a run take seconds: tiny vocabulary, model and batches.
TINY_FLAGS = [
    "--vocab_size",
    "40",
    "--max_length",
    "12",
    "--embedding_dim",
    "4",
    "--units",
    "3",
    "--batch_size",
    "4",
    "--epochs",
    "2",
    "--patience",
    "2",
]


def write_reviews(root: Path, split: str, copies: int, unseen: bool = False) -> None:
    """`copies` of the training reviews, or (`unseen`) of the test reviews, per label."""
    texts_by_label = {
        "pos": POSITIVE_TEST if unseen else POSITIVE,
        "neg": NEGATIVE_TEST if unseen else NEGATIVE,
    }
    for label, texts in texts_by_label.items():
        folder = root / split / label
        folder.mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            for i, text in enumerate(texts):
                (folder / f"{copy}_{i}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def review_folder(tmp_path) -> Path:
    root = tmp_path / "reviews"
    write_reviews(root, "train", copies=2)
    write_reviews(root, "test", copies=1)
    return root
