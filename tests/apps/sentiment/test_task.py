"""The sentiment Task's own parts: preprocessing saved and restored, data-decided config."""

import tensorflow as tf
import tensorflow_datasets as tfds

from apps.sentiment.config import SentimentConfig
from apps.sentiment.task import SentimentTask


def test_the_vectorizer_round_trips_through_the_run_directory(review_folder, tmp_path):
    task = SentimentTask()
    config = SentimentConfig(data_dir=str(review_folder), vocab_size=40)
    splits, config = task.load_data(config)
    vectorizer = task.fit_preprocessing(config, splits)
    task.save_preprocessing(vectorizer, tmp_path)
    restored = task.load_preprocessing(config, tmp_path)
    assert restored.get_vocabulary() == vectorizer.get_vocabulary()
    texts = tf.constant(["A great film!<br />Loved it", "zzz never seen", ""])
    assert restored(texts).to_list() == vectorizer(texts).to_list()


def test_tfds_source_fills_in_the_class_names(tmp_path):
    with tfds.testing.mock_data(num_examples=8):
        splits, config = SentimentTask().load_data(SentimentConfig(output_dir=str(tmp_path)))
    assert config.class_names == ("neg", "pos") and config.data_dir is None
    assert splits.counts["test"] == 8
