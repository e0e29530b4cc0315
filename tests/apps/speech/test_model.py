import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.speech.config import SpeechConfig
from apps.speech.feature_augment import RandomStretch
from apps.speech.feature_augment import SpecAugment
from apps.speech.features import SILENCE_LOG
from apps.speech.features import LogMelSpectrogram
from apps.speech.features import UtteranceNormalization
from apps.speech.model import build_model
from apps.speech.model import compile_model
from apps.speech.model import explain_model
from apps.speech.model import feature_layers
from apps.speech.model import feature_statistics
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


@pytest.mark.parametrize("dynamic_range_db", [0.0, 60.0])
def test_log_mel_of_a_clip_does_not_depend_on_the_rest_of_the_batch(dynamic_range_db):
    layer = LogMelSpectrogram(8000, 200, 80, 16, dynamic_range_db=dynamic_range_db)
    loud = np.concatenate([waves(1), 100 * waves(1, seed=1)])
    np.testing.assert_allclose(layer(loud)[0], layer(loud[:1])[0], atol=1e-5)


def test_log_mel_floor_is_relative_to_the_loudest_value_of_the_clip():
    clip = waves(1)
    clip[0, 1000:] = 0.0  # digital silence after the sound
    features = np.asarray(LogMelSpectrogram(8000, 200, 80, 16, dynamic_range_db=40.0)(clip))
    assert features.max() - features.min() == pytest.approx(np.log(1e4), abs=1e-3)
    quiet = np.asarray(LogMelSpectrogram(8000, 200, 80, 16, dynamic_range_db=40.0)(clip / 100))
    np.testing.assert_allclose(quiet - np.log(1e-4), features, atol=1e-3)  # gain is an offset


def test_band_stretch_moves_bands_only_in_training(tmp_path):
    features = np.tile(np.arange(16, dtype="float32"), (4, 5, 1))
    kwargs = {"axis": 2, "max_stretch": 0.2, "anchor": "start", "seed": 3}
    run_layer_test(RandomStretch, kwargs, features, (4, 5, 16), tmp_path)
    layer = RandomStretch(**kwargs)
    np.testing.assert_array_equal(layer(features), features)
    warped = np.asarray(layer(features, training=True))
    assert not np.allclose(warped, features)
    np.testing.assert_allclose(warped[:, 0, 0], 0.0)  # band 0 stays, the rest stretch
    slopes = warped[:, 0, 5] / 5
    assert np.all((slopes > 1 / 1.21) & (slopes < 1 / 0.79)) and np.ptp(slopes) > 0
    np.testing.assert_allclose(warped[:, 1:], warped[:, :1].repeat(4, axis=1))  # same per clip


def test_time_stretch_keeps_the_middle_frame_in_place():
    frames = np.tile(np.arange(21, dtype="float32")[None, :, None], (4, 1, 3))
    stretched = np.asarray(RandomStretch(1, 0.3, "centre", seed=1)(frames, training=True))
    np.testing.assert_allclose(stretched[:, 10], 10.0, atol=1e-5)
    assert np.ptp(stretched[:, 0, 0]) > 0  # each clip its own factor
    np.testing.assert_allclose(stretched[..., 0], stretched[..., 2])  # bands move together


def test_utterance_normalization_can_ignore_silent_frames():
    speech = np.random.default_rng(0).normal(size=(1, 6, 4)).astype("float32")
    silence = np.full((1, 10, 4), SILENCE_LOG - 1e-3, "float32")
    padded = np.concatenate([silence[:, :4], speech, silence[:, 4:]], axis=1)
    layer = UtteranceNormalization("mean_var", silence_level=SILENCE_LOG)
    out = np.asarray(layer(padded))
    np.testing.assert_allclose(out[:, 4:10], np.asarray(layer(speech)), atol=1e-5)
    np.testing.assert_array_equal(out[:, :4], 0.0)  # silence sits at the clip mean


@pytest.mark.parametrize("cepstral_coefficients", [0, 13])
def test_zero_padding_changes_no_sounding_frame_with_mfccs_or_log_mel(cepstral_coefficients):
    """Default features (MFCCs) too: the padding a short clip needs is left out of its
    per-clip statistics, so more padding gives the same features on the sound."""
    config = SpeechConfig(
        sample_rate=8000, clip_seconds=1.0, cepstral_coefficients=cepstral_coefficients
    )
    spectral, utterance_norm = feature_layers(config)
    features = keras.Sequential([*spectral, utterance_norm])
    rng = np.random.default_rng(0)
    sound = rng.normal(size=2400).astype("float32") * np.hanning(2400).astype("float32")
    frame_step = config.frame_step
    short = np.zeros((1, 8000), "float32")
    short[0, 4 * frame_step : 4 * frame_step + 2400] = sound
    long = np.zeros((1, 8000), "float32")
    long[0, 4 * frame_step : 4 * frame_step + 2400] = sound
    long = np.concatenate([long[:, :], np.zeros((1, 8 * frame_step), "float32")], axis=1)
    a, b = np.asarray(features(short)), np.asarray(features(long))
    frames = a.shape[1]
    np.testing.assert_allclose(a, b[:, :frames], atol=2e-3)
    assert np.abs(b[:, frames:]).max() < 1e-5  # silent frames sit at the clip mean


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


@pytest.mark.parametrize("cepstral_coefficients", [0, 12])
def test_model_trains_reloads_and_explains(tmp_path, cepstral_coefficients):
    config = SpeechConfig(**TINY, cepstral_coefficients=cepstral_coefficients)
    clips = tf.data.Dataset.from_tensor_slices(waves(8)).batch(4)
    feature_mean, feature_variance = feature_statistics(config, clips)
    model = build_model(
        config, num_classes=3, feature_mean=feature_mean, feature_variance=feature_variance
    )
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
    assert features.shape == (3, 23, 16) and attention.shape == (3, 11)  # frames pooled by 2
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-5)


def test_random_layers_draw_independently():
    """The stretch, the warp and the masks draw different numbers (same numbers would tie the
    tempo change to the band warp in every clip)."""
    config = SpeechConfig(**TINY, time_stretch=0.3, frequency_warp=0.1, cepstral_coefficients=0)
    model = build_model(config, num_classes=3)
    draws = [
        keras.random.uniform((64,), seed=model.get_layer(name).seed_generator).numpy()
        for name in ("time_stretch", "frequency_warp", "spec_augment")
    ]
    for one, other in itertools.combinations(draws, 2):
        assert abs(np.corrcoef(one, other)[0, 1]) < 0.5
