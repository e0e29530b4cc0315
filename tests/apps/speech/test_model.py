import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.speech.config import SpeechConfig
from apps.speech.features import LogMelSpectrogram
from apps.speech.features import SpecAugment
from apps.speech.features import UtteranceNormalization
from apps.speech.model import adapt_normalization
from apps.speech.model import build_model
from apps.speech.model import compile_model
from apps.speech.model import explain_model
from tests.layer_test import run_layer_test

TINY = dict(
    sample_rate=8000,
    clip_seconds=0.25,
    mel_bins=16,
    conv_filters=4,
    units=4,
    num_layers=1,
    attention_units=4,
    head_units=8,
)


def waves(batch: int, samples: int = 2000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=0.1, size=(batch, samples)).astype("float32")


def test_log_mel_layer(tmp_path):
    kwargs = dict(sample_rate=8000, frame_length=200, frame_step=80, mel_bins=16)
    run_layer_test(LogMelSpectrogram, kwargs, waves(2), (2, 23, 16), tmp_path)


def test_log_mel_of_a_clip_does_not_depend_on_the_rest_of_the_batch():
    layer = LogMelSpectrogram(8000, 200, 80, 16)
    loud = np.concatenate([waves(1), 100 * waves(1, seed=1)])
    np.testing.assert_allclose(layer(loud)[0], layer(loud[:1])[0], atol=1e-5)


@pytest.mark.parametrize("mode", ["none", "mean", "mean_var"])
def test_utterance_normalization(mode, tmp_path):
    features = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 10, 4)).astype("float32")
    model = run_layer_test(UtteranceNormalization, {"mode": mode}, features, (2, 10, 4), tmp_path)
    out = model.predict(features, verbose=0)
    if mode == "none":
        np.testing.assert_allclose(out, features)
    else:
        np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-5)
    if mode == "mean_var":
        np.testing.assert_allclose(out.std(axis=1), 1.0, atol=1e-3)


def test_spec_augment_masks_only_in_training(tmp_path):
    kwargs = dict(freq_masks=2, freq_mask_width=3, time_masks=2, time_mask_width=4, seed=1)
    features = np.ones((4, 20, 16), "float32")
    run_layer_test(SpecAugment, kwargs, features, (4, 20, 16), tmp_path)
    layer = SpecAugment(**kwargs)
    np.testing.assert_array_equal(layer(features, training=False), features)
    masked = np.asarray(layer(features, training=True))
    zeros = masked == 0
    assert zeros.any() and not zeros.all()
    assert zeros.all(axis=1).sum(axis=-1).max() <= 6  # whole bands masked: at most 2 x 3
    assert zeros.all(axis=2).sum(axis=-1).max() <= 8  # whole frames masked: at most 2 x 4


def test_model_trains_reloads_and_explains(tmp_path):
    config = SpeechConfig(**TINY)
    model = build_model(config, num_classes=3)
    clips = tf.data.Dataset.from_tensor_slices(waves(8)).batch(4)
    adapt_normalization(model, clips)
    mean = model.get_layer("feature_norm").mean
    assert np.any(np.asarray(mean) != 0)
    compile_model(model, config)
    model.fit({"audio": waves(8)}, np.array([0, 1, 2, 0, 1, 2, 0, 1]), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        restored.predict({"audio": waves(3)}, verbose=0),
        model.predict({"audio": waves(3)}, verbose=0),
        atol=1e-5,
    )
    features, attention = explain_model(model).predict({"audio": waves(3)}, verbose=0)
    assert features.shape == (3, 23, 16) and attention.shape == (3, 23)
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-5)
