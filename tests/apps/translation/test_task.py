"""The translation Task's own parts: vocabularies saved and restored, the epoch's examples."""

import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.task import TranslationTask
from tests.apps.translation.conftest import write_corpus
from tests.dataset_test import cached_copies


def test_vocabularies_round_trip_through_the_run_directory(tmp_path):
    task = TranslationTask()
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path / "data", train=60, test=5)),
        vocab_size=40,
        max_length=6,
    )
    splits, config = task.load_data(config)
    vocabularies = task.fit_preprocessing(config, splits)
    assert (
        vocabularies.lengths["kept"] + vocabularies.lengths["dropped_longer_than_max_length"]
        == (splits.counts["train"])
    )
    task.save_preprocessing(vocabularies, tmp_path / "saved")
    restored = task.load_preprocessing(config, tmp_path / "saved")
    assert restored.lengths == vocabularies.lengths and restored.seconds == vocabularies.seconds
    text = tf.constant(["Three one four.", "Nine, unknown ÉCOLE!"])
    for side in ("source", "target"):
        before, after = getattr(vocabularies, side), getattr(restored, side)
        assert after.vocabulary == before.vocabulary
        assert after.tokenize(text).to_list() == before.tokenize(text).to_list()
    # One epoch trains on the pairs that fit --max_length.
    datasets = task.make_datasets(config, splits, restored)
    assert datasets.examples["train"] == vocabularies.lengths["kept"]


def test_the_training_pairs_are_held_in_memory_once(tmp_path):
    task = TranslationTask()
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path / "data", train=40, test=5)), vocab_size=40
    )
    splits, config = task.load_data(config)
    vocabularies = task.fit_preprocessing(config, splits)
    assert cached_copies(task.make_datasets(config, splits, vocabularies).train) == 1


def test_the_final_fit_trains_on_every_kept_train_and_val_pair(tmp_path):
    task = TranslationTask()
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path / "data", train=40, test=5)),
        vocab_size=40,
        max_length=6,
        refit="scratch",
    )
    splits, config = task.load_data(config)
    vocabularies = task.fit_preprocessing(config, splits)
    datasets = task.make_datasets(config, splits, vocabularies)
    pairs = sum(int(tf.shape(label)[0]) for _, label in datasets.train_and_val)
    assert pairs == datasets.examples["train_and_val"] > datasets.examples["train"]
