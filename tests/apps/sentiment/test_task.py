"""The sentiment Task's own parts: the tokenizer saved with the model, data-decided config."""

import keras
import numpy as np
import tensorflow_datasets as tfds

from apps.sentiment.config import SentimentConfig
from apps.sentiment.task import SentimentTask


def test_the_classifier_saves_its_tokenizer_and_predicts_from_strings(review_folder, tmp_path):
    task = SentimentTask()
    config = SentimentConfig(data_dir=str(review_folder), vocab_size=40, units=4)
    splits, config = task.load_data(config)
    tokenizer = task.fit_preprocessing(config, splits)
    model = task.build_model(config, tokenizer, steps_per_epoch=1)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", compile=False)  # safe_mode on
    vocabulary = restored.preprocessor.vectorizer.get_vocabulary()
    assert vocabulary == tokenizer.vectorizer.get_vocabulary() and len(vocabulary) > 2
    texts = np.array(["A great film!<br />Loved it", "zzz never seen", ""])
    np.testing.assert_allclose(restored.predict(texts), model.predict(texts), atol=1e-6)
    assert restored.predict(texts).shape == (3, 2)


def test_tfds_source_fills_in_the_class_names(tmp_path):
    with tfds.testing.mock_data(num_examples=8):
        splits, config = SentimentTask().load_data(SentimentConfig(output_dir=str(tmp_path)))
    assert config.class_names == ("neg", "pos") and config.data_dir is None
    assert splits.counts["test"] == 8
