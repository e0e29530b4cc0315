import json

import numpy as np
import pytest

from shared import io
from shared.errors import UserError
from shared.io import text_argument
from shared.metrics import classification_report
from shared.metrics import majority_baseline
from shared.metrics import top_k_accuracy


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "metrics.json"
    io.write_json(path, {"accuracy": 0.5})
    with pytest.raises(RuntimeError):
        with io.atomic_path(path) as tmp:
            tmp.write_text('{"accuracy": 0.')
            raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"accuracy": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_write_json_accepts_numpy_values(tmp_path):
    io.write_json(tmp_path / "m.json", {"a": np.float32(0.25), "b": np.arange(2)})
    assert io.read_json(tmp_path / "m.json") == {"a": 0.25, "b": [0, 1]}


def test_classification_report_on_a_known_case():
    labels = np.array([0, 0, 1, 1, 2])
    probabilities = np.array(
        [[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.1, 0.9, 0.0], [0.3, 0.6, 0.1], [0.5, 0.0, 0.5]]
    )
    report = classification_report(labels, probabilities, ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(3 / 5)
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert report["per_class"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert report["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    expected_loss = -np.mean(np.log([0.9, 0.2, 0.9, 0.6, 0.5]))
    assert report["loss"] == pytest.approx(expected_loss)


def test_majority_baseline_uses_training_counts():
    baseline = majority_baseline(np.array([1, 1, 0]), np.array([0, 0, 1]), ["neg", "pos"])
    assert baseline == {"class": "pos", "accuracy": pytest.approx(1 / 3)}


def test_top_k_accuracy():
    probabilities = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    assert top_k_accuracy(np.array([1, 0]), probabilities, 1) == 0.0
    assert top_k_accuracy(np.array([1, 0]), probabilities, 2) == 0.5


def test_a_predict_argument_is_text_or_an_existing_file(tmp_path):
    """A mistyped file name is an error, not text to classify (before: the path string itself
    was classified as a review, exit 0)."""
    review = tmp_path / "review.txt"
    review.write_text("Great.", encoding="utf-8")
    assert text_argument(str(review)) == review
    assert text_argument("A wonderful film.") is None
    assert text_argument("Great.") is None
    assert text_argument("see reviews/this one.txt") is None  # spaces: a sentence
    for typo in (str(tmp_path / "review_missing.txt"), "review_missing.txt", "dir/typo"):
        with pytest.raises(UserError, match=r": no such file \(text to read as is has a space"):
            text_argument(typo)
    with pytest.raises(UserError, match="a folder"):
        text_argument(str(tmp_path))
