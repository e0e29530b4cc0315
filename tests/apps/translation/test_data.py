"""Reading `<split>.tsv` files and TFDS, clear errors, and the shapes the model is fed."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from apps.translation.config import TranslationConfig
from apps.translation.data import learn_tokenizers
from apps.translation.data import load_splits
from apps.translation.data import make_dataset
from apps.translation.data import scan_tsv
from apps.translation.data import tokenize_pairs
from apps.translation.data import tsv_pairs
from apps.translation.token_cache import LengthCounter
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import START_ID
from shared.errors import UserError
from tests.apps.translation.conftest import number_pairs
from tests.apps.translation.conftest import write_corpus
from tests.apps.translation.conftest import write_tsv


def test_folder_splits_hold_out_validation_from_train(tmp_path):
    config = TranslationConfig(data_dir=str(write_corpus(tmp_path, train=200, test=10)))
    splits = load_splits(config)
    assert splits.counts["test"] == 10
    assert splits.counts["train"] + splits.counts["val"] == 200 and splits.counts["val"] > 5
    source, target = next(splits.datasets["test"].as_numpy_iterator())
    assert source.decode().endswith(".") and target.decode()[0].isdigit()


def test_columns_are_picked_by_language_name(tmp_path):
    path = write_tsv(tmp_path / "train.tsv", [("x", "Hallo", "Hello")], header=("id", "de", "en"))
    pairs = tsv_pairs(path, scan_tsv(path, "de", "en"))
    assert list(pairs.as_numpy_iterator()) == [(b"Hallo", b"Hello")]


def test_quoted_fields_are_unquoted_a_stray_quote_is_text_and_empty_sides_left_out(tmp_path):
    rows = [('"Hi," she said', '"Hallo"'), ("", "leer"), ("Bye", "Tschüss")]
    path = write_tsv(tmp_path / "train.tsv", rows)  # csv quotes the first row's fields
    with open(path, "a", encoding="utf-8") as f:
        f.write('"Stray quote\tVerirrt"\nLast\tLetzte\n')
    pairs = list(tsv_pairs(path, scan_tsv(path, "en", "de")).as_numpy_iterator())
    expected = [rows[0], rows[2], ('"Stray quote', 'Verirrt"'), ("Last", "Letzte")]
    assert [(s.decode(), t.decode()) for s, t in pairs] == expected


def test_a_stray_quote_on_line_8_keeps_all_400_pairs(tmp_path):
    """The issue's file: before, csv quoting merged lines 8-368 into one field and 400 pairs
    became 39, with exit 0 and no warning."""
    data = write_corpus(tmp_path / "data")
    lines = (data / "train.tsv").read_text(encoding="utf-8").splitlines()
    lines[7] = '"' + lines[7]
    (data / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    splits = load_splits(TranslationConfig(data_dir=str(data)))
    assert splits.counts["train"] + splits.counts["val"] == 400


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"fr\tde\nBonjour\tHallo\n", "no column 'en'"),
        (b"en\tde\nHello\tHallo\nonly one column\n", "line 3"),
        (b"en\tde\nHello\tHall\xff\n", "not UTF-8"),
    ],
)
def test_bad_files_are_named_in_the_error(tmp_path, content, message):
    path = tmp_path / "train.tsv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as error:
        scan_tsv(path, "en", "de")
    assert "train.tsv" in str(error.value)


def test_missing_test_split_is_an_error(tmp_path):
    write_tsv(tmp_path / "train.tsv", number_pairs(5, seed=0))
    with pytest.raises(UserError, match="test.tsv not found"):
        load_splits(TranslationConfig(data_dir=str(tmp_path)))


def test_batches_shift_the_target_and_drop_overlong_pairs(tmp_path):
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path, train=60, test=5)),
        vocab_size=40,
        max_length=6,
        batch_size=4,
    )
    splits = load_splits(config)
    source_tokenizer, target_tokenizer = learn_tokenizers(splits.datasets["train"], config)
    tokenized = tokenize_pairs(splits.datasets["train"], source_tokenizer, target_tokenizer)
    report = lengths_of(tokenized, config.max_length)
    assert report["kept"] + report["dropped_longer_than_max_length"] == splits.counts["train"]
    assert report["dropped_longer_than_max_length"] > 0 and report["longest_pair_tokens"] > 6
    batches = list(make_dataset(tokenized, config, training=True).as_numpy_iterator())
    assert sum(len(label) for _, label in batches) == report["kept"]
    assert sum(np.count_nonzero(label) for _, label in batches) == report["kept_target_tokens"]
    for inputs, label in batches:
        assert np.all(inputs["target_in"][:, 0] == START_ID)
        for row in range(len(label)):
            length = np.count_nonzero(label[row])
            assert label[row, length - 1] == END_ID and length <= config.max_length + 1
            # target_in is the label shifted right by one, behind [START].
            np.testing.assert_array_equal(
                inputs["target_in"][row, 1:length], label[row, : length - 1]
            )
        assert np.all(
            inputs["source"][np.arange(len(label)), np.count_nonzero(inputs["source"], 1) - 1]
            == END_ID
        )


def test_tfds_path_reads_the_language_features(tmp_path):
    config = TranslationConfig(
        tfds_name="wmt14_translate/de-en", source_lang="en", target_lang="de"
    )
    with tfds.testing.mock_data(num_examples=12):
        splits = load_splits(config)
    assert splits.counts["test"] == 12 and splits.counts["val"] == 12
    source, target = next(splits.datasets["train"].as_numpy_iterator())
    assert isinstance(source, bytes) and isinstance(target, bytes)


def test_tfds_path_names_a_missing_language():
    config = TranslationConfig(tfds_name="wmt14_translate/de-en", source_lang="fr")
    with tfds.testing.mock_data(num_examples=4):
        with pytest.raises(UserError, match="no feature \\['fr'\\]"):
            load_splits(config)


def test_without_bucketing_long_evaluation_pairs_are_batched_in_full(tmp_path):
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path, train=60, test=8)),
        vocab_size=40,
        max_length=3,
        batch_size=4,
        bucketing=False,
    )
    splits = load_splits(config)
    source_tokenizer, target_tokenizer = learn_tokenizers(splits.datasets["train"], config)
    tokenized = tokenize_pairs(splits.datasets["test"], source_tokenizer, target_tokenizer)
    assert lengths_of(tokenized, config.max_length)["dropped_longer_than_max_length"] > 0
    batches = list(make_dataset(tokenized, config, training=False).as_numpy_iterator())
    assert sum(len(label) for _, label in batches) == 8  # every pair, none cut
    longest = max(label.shape[1] for _, label in batches)
    assert longest > config.max_length + 1
    training = list(make_dataset(tokenized, config, training=True).as_numpy_iterator())
    assert all(label.shape[1] == config.max_length + 1 for _, label in training)


def lengths_of(tokenized, max_length: int) -> dict:
    """The length report of tokenized pairs, counted pair by pair."""
    counter = LengthCounter(max_length)
    for source, target in tokenized.as_numpy_iterator():
        counter.add(np.array([len(source)]), np.array([len(target)]))
    return counter.report()
