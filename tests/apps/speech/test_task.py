"""The speech Task's own parts: feature statistics saved with the model, data-decided config."""

import keras
import numpy as np
import tensorflow_datasets as tfds

from apps.speech.config import SpeechConfig
from apps.speech.task import SpeechTask
from shared.cli import parse_config
from tests.apps.speech.conftest import TINY_FLAGS


def tiny_config(**overrides) -> SpeechConfig:
    config = parse_config(SpeechConfig, TINY_FLAGS)
    return SpeechConfig(**{**config.__dict__, **overrides})


def test_feature_statistics_are_saved_with_the_model(clip_folder, tmp_path):
    task = SpeechTask()
    splits, config = task.load_data(tiny_config(data_dir=str(clip_folder)))
    assert config.class_names == ("chirp", "high", "low") and config.max_frequency == 4000
    clip_input = task.fit_preprocessing(config, splits)
    mean, variance = np.array(clip_input.feature_mean), np.array(clip_input.feature_variance)
    assert mean.shape == variance.shape == (12,)  # 12 MFCCs
    assert np.all(variance > 0)
    model = task.build_model(config, clip_input, steps_per_epoch=1)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    np.testing.assert_allclose(restored.preprocessor.feature_mean, mean, rtol=1e-6)
    norm = restored.network.get_layer("feature_norm")
    np.testing.assert_allclose(np.ravel(norm.mean), mean, rtol=1e-6)
    # Waveforms of any length in, the same probabilities as the model it was saved from.
    audio = np.random.default_rng(0).normal(scale=0.1, size=(2, 5000)).astype("float32")
    np.testing.assert_allclose(restored.predict(audio), model.predict(audio), atol=1e-5)


def test_tfds_source_fills_in_the_class_names(tmp_path):
    with tfds.testing.mock_data(num_examples=6):
        _, config = SpeechTask().load_data(tiny_config(output_dir=str(tmp_path)))
    assert config.data_dir is None and len(config.class_names) == 12
    assert config.max_frequency == 4000  # half the model's rate: TFDS gives no lower one


def test_fitting_the_statistics_draws_no_random_weights(clip_folder):
    """The model's initial weights depend on the seed only, not on the preprocessing step."""
    task = SpeechTask()
    splits, config = task.load_data(tiny_config(data_dir=str(clip_folder)))
    statistics = task.fit_preprocessing(config, splits)
    keras.utils.set_random_seed(7)
    direct = task.build_model(config, statistics, steps_per_epoch=1).get_weights()
    keras.utils.set_random_seed(7)
    task.fit_preprocessing(config, splits)
    after = task.build_model(config, statistics, steps_per_epoch=1).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(direct, after))
