import dataclasses
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from apps.sentiment.config import SentimentConfig
from apps.sentiment.data import load_folder
from apps.sentiment.data import load_splits
from apps.sentiment.data import make_dataset
from apps.sentiment.tokenizer import ReviewTokenizer
from apps.sentiment.tokenizer import standardize
from shared.errors import UserError


def config_for(tmp_path, **overrides) -> SentimentConfig:
    return SentimentConfig(
        output_dir=str(tmp_path / "run"), batch_size=4, max_length=12, vocab_size=40, **overrides
    )


def test_folder_loader_reads_every_review_with_its_label(review_folder):
    datasets, class_names = load_folder(review_folder)
    assert class_names == ("neg", "pos")
    examples = list(datasets["train"].as_numpy_iterator())
    assert len(examples) == 20
    texts = {text.decode("utf-8"): label for text, label in examples}
    assert texts["A great, wonderful film.<br /><br />Loved it!"] == 1
    assert texts["Awful acting and a boring story."] == 0


def test_splits_carve_a_seeded_validation_set(review_folder, tmp_path):
    splits = load_splits(config_for(tmp_path, data_dir=str(review_folder), validation_split=0.25))
    assert splits.counts["train"] + splits.counts["val"] == 20
    assert splits.counts["val"] > 0 and splits.counts["test"] == 10


def test_standardize_drops_tags_and_keeps_sentiment_marks():
    text = standardize(tf.constant("Great<br /><br />FILM!! Don't miss, ÉTÉ?")).numpy().decode()
    assert text.split() == ["great", "film", "!", "!", "don't", "miss", "été", "?"]


def test_tokenizer_keeps_the_head_and_the_tail_of_long_reviews():
    words = [f"w{i}" for i in range(20)]
    tokenizer = ReviewTokenizer(8, 30).adapt(tf.data.Dataset.from_tensor_slices([" ".join(words)]))
    vocabulary = tokenizer.vectorizer.get_vocabulary()
    ids = tokenizer.token_ids(tf.constant([" ".join(words), "w3 w4", ""]))
    kept = [[vocabulary[i] for i in row] for row in ids.to_list()]
    assert kept[0] == ["w0", "w1", "w14", "w15", "w16", "w17", "w18", "w19"]
    assert kept[1] == ["w3", "w4"] and kept[2] == ["[UNK]"]  # never an empty row
    assert tokenizer(tf.constant([" ".join(words), "w3 w4", ""]))["token_ids"].shape == (3, 8)
    assert tokenizer(tf.constant(["", ""]))["token_ids"].shape == (2, 1)


@pytest.mark.parametrize("bucketing", [True, False])
def test_make_dataset_batches_every_review_once(review_folder, tmp_path, bucketing):
    config = config_for(tmp_path, bucketing=bucketing)
    datasets, _ = load_folder(review_folder)
    tokenizer = ReviewTokenizer(config.max_length, 40)
    tokenizer.adapt(datasets["train"].map(lambda text, label: text))
    batches = list(make_dataset(datasets["test"], tokenizer, config, training=False))
    labels = np.concatenate([label.numpy() for _, label in batches])
    assert sorted(labels.tolist()) == [0] * 5 + [1] * 5
    for features, _ in batches:
        assert features["token_ids"].dtype == tf.int32
        assert features["token_ids"].shape[1] <= 12
        if not bucketing:
            assert features["token_ids"].shape[1] == 12


def test_tfds_source_under_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        splits = load_splits(config_for(tmp_path))
        assert splits.class_names == ("neg", "pos")
        assert splits.counts["train"] + splits.counts["val"] == 12
        text, label = next(iter(splits.datasets["test"]))
        assert text.dtype == tf.string and label.dtype == tf.int64


def write(path, content: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


# Each breakage damages a good review folder and returns the path to load.
def missing_folder(root):
    return root / "absent"


def empty_folder(root):
    (root / "empty").mkdir()
    return root / "empty"


def no_test_split(root):
    shutil.rmtree(root / "test")
    return root


def one_label_only(root):
    shutil.rmtree(root / "train" / "neg")
    return root


def latin1_file(root):
    write(root / "train" / "pos" / "bad.txt", b"caf\xe9 latin-1")
    return root


def blank_file(root):
    write(root / "test" / "neg" / "blank.txt", b"  \n")
    return root


def empty_label_folder(root):
    (root / "test" / "neutral").mkdir()
    return root


@pytest.mark.parametrize(
    "breakage, message",
    [
        (missing_folder, "no such folder"),
        (empty_folder, "missing the train/"),
        (no_test_split, "missing the test/"),
        (one_label_only, "need at least 2"),
        (latin1_file, "bad.txt: not UTF-8"),
        (blank_file, "blank.txt: empty review"),
        (empty_label_folder, "neutral: no .txt files"),
    ],
)
def test_bad_folders_raise_one_clear_error(review_folder, breakage, message):
    with pytest.raises(UserError, match=message):
        load_folder(breakage(review_folder))


def test_labels_differing_between_splits(review_folder):
    (review_folder / "test" / "pos").rename(review_folder / "test" / "positive")
    with pytest.raises(UserError, match="differ from the class names"):
        load_folder(review_folder)


def test_configured_class_order_is_used(review_folder):
    datasets, class_names = load_folder(review_folder, ("pos", "neg"))
    assert class_names == ("pos", "neg")
    texts = {t.decode(): y for t, y in datasets["test"].as_numpy_iterator()}
    assert texts["A great, wonderful film.<br /><br />Loved it!"] == 0


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="--pooling"):
        dataclasses.replace(SentimentConfig(), pooling="median")
