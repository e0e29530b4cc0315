"""The translation Task's own parts: vocabularies saved with the model, the epoch's examples."""

import keras
import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.task import TranslationTask
from tests.apps.translation.conftest import write_corpus
from tests.dataset_test import cached_copies


def test_the_model_saves_its_vocabularies_and_translates_raw_text(tmp_path):
    task = TranslationTask()
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path / "data", train=60, test=5)),
        vocab_size=40,
        max_length=6,
        units=8,
        decoder_units=8,
        embedding_dim=8,
    )
    splits, config = task.load_data(config)
    tokenizers = task.fit_preprocessing(config, splits)
    model = task.build_model(config, tokenizers, steps_per_epoch=1)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    text = tf.constant(["Three one four.", "Nine, unknown ÉCOLE!"])
    for side in ("source", "target"):
        before, after = getattr(tokenizers, side), getattr(restored.preprocessor, side)
        assert after.vocabulary == before.vocabulary
        assert after.tokenize(text).to_list() == before.tokenize(text).to_list()
    sentences = ["Three one four.", ""]
    assert restored.generate(sentences) == model.generate(sentences)
    # One epoch trains on the pairs that fit --max_length; the rest are counted.
    datasets = task.make_datasets(config, splits, restored.preprocessor)
    lengths = datasets.report["lengths"]
    assert lengths["kept"] + lengths["dropped_longer_than_max_length"] == splits.counts["train"]
    assert datasets.examples["train"] == lengths["kept"]


def test_pairs_are_tokenized_once_into_files_and_never_held_in_memory(tmp_path, capsys):
    task = TranslationTask()
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path / "data", train=40, test=5)),
        vocab_size=40,
        cache_dir=str(tmp_path / "cache"),
    )
    splits, config = task.load_data(config)
    tokenizers = task.fit_preprocessing(config, splits)
    datasets = task.make_datasets(config, splits, tokenizers)
    assert capsys.readouterr().out.count("Tokenizing the") == 2  # train and val, once each
    assert cached_copies(datasets.train) == 0 and cached_copies(datasets.train_and_val) == 0
    epoch = sum(len(y) for _, y in datasets.train)
    assert epoch == datasets.examples["train"] == datasets.report["lengths"]["kept"]
    both = sum(len(y) for _, y in datasets.train_and_val)
    assert both == datasets.examples["train_and_val"]
    # The same data and vocabularies (another run) read the files back.
    again = task.make_datasets(config, splits, tokenizers)
    assert "Tokenizing" not in capsys.readouterr().out
    assert sum(len(y) for _, y in again.train) == epoch


def test_the_final_fit_trains_on_every_kept_train_and_val_pair(tmp_path):
    task = TranslationTask()
    config = TranslationConfig(
        data_dir=str(write_corpus(tmp_path / "data", train=40, test=5)),
        vocab_size=40,
        max_length=6,
        refit="scratch",
    )
    splits, config = task.load_data(config)
    tokenizers = task.fit_preprocessing(config, splits)
    datasets = task.make_datasets(config, splits, tokenizers)
    pairs = sum(int(tf.shape(label)[0]) for _, label in datasets.train_and_val)
    assert pairs == datasets.examples["train_and_val"] > datasets.examples["train"]
