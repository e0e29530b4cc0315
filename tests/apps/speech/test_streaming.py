"""The streaming network: causal, and hop by hop the same as the clip model (no training)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.speech.config import SpeechConfig
from apps.speech.detection import Detection
from apps.speech.detection import Event
from apps.speech.detection import compose_recording
from apps.speech.detection import detect
from apps.speech.detection import hop_levels
from apps.speech.detection import score
from apps.speech.detection import sound_gate
from apps.speech.features import UtteranceNormalization
from apps.speech.model import build_model
from apps.speech.streaming import StreamingClassifier
from apps.speech.streaming import stream_clip
from shared.errors import UserError

TINY = dict(
    sample_rate=8000,
    clip_seconds=0.5,
    mel_bins=16,
    cepstral_coefficients=12,
    conv_filters=4,
    units=6,
    num_layers=2,
    attention_units=4,
    head_units=8,
    class_names=("a", "b", "c"),
)


def network(config: SpeechConfig) -> keras.Model:
    """A randomly initialized network whose outputs differ enough to compare: larger weights."""
    keras.utils.set_random_seed(3)
    bands = config.cepstral_coefficients or config.mel_bins
    rng = np.random.default_rng(0)
    model = build_model(
        config,
        num_classes=3,
        feature_mean=rng.normal(size=bands).astype("float32"),
        feature_variance=rng.uniform(0.5, 2.0, bands).astype("float32"),
    )
    for weight in model.weights:
        if "kernel" in weight.path:
            weight.assign(weight.numpy() * 3.0)
    return model


def speech_like(samples: int, seed: int = 0) -> np.ndarray:
    """Digital silence, then a noisy chirp, then quiet noise: every branch of the front end."""
    rng = np.random.default_rng(seed)
    audio = np.zeros(samples, np.float32)
    start, end = samples // 5, 3 * samples // 5
    time = np.arange(end - start) / 8000
    audio[start:end] = 0.5 * np.sin(2 * np.pi * (300 + 2000 * time) * time)
    audio[start:] += 0.01 * rng.standard_normal(samples - start)
    return audio


@pytest.mark.parametrize(
    "flags",
    [
        dict(cell="gru"),
        dict(cell="lstm", cepstral_coefficients=0),
        dict(cell="simple_rnn", utterance_normalization="mean", ignore_silence=False),
    ],
)
def test_hop_by_hop_equals_the_clip_model(flags):
    config = SpeechConfig(**{**TINY, **flags}, streaming=True)
    assert not config.bidirectional
    model = network(config)
    streaming = StreamingClassifier(model, config)
    audio = speech_like(config.clip_samples)
    step = tf.function(streaming.step, input_signature=streaming.input_signature())

    def call(audio, **state):
        return step(tf.constant(audio), *[tf.constant(state[n]) for n in streaming.state_shapes()])

    heard = streaming.memory_steps * streaming.hop_samples
    assert heard == config.clip_samples
    probabilities = stream_clip(call, streaming.initial_state(), audio, streaming.hop_samples)
    want = model(audio[None]).numpy()[0]
    assert want.max() - want.min() > 0.05  # outputs far enough from uniform to compare
    np.testing.assert_allclose(probabilities[-1], want, atol=1e-5)
    # The buffer of recurrent outputs is the clip model's sequence, step for step.
    sequence = keras.Model(model.inputs, model.get_layer("recurrent").output)(audio[None])
    state = streaming.initial_state()
    for start in range(0, heard, streaming.hop_samples):
        result = call(audio[None, start : start + streaming.hop_samples], **state)
        state = {name: result[name].numpy() for name in state}
    np.testing.assert_allclose(state["memory"], sequence.numpy(), atol=1e-5)


def test_the_streaming_network_never_reads_ahead():
    config = SpeechConfig(**TINY, streaming=True)
    model = network(config)
    frames = keras.Model(model.inputs, model.get_layer("recurrent").output)
    audio = speech_like(config.clip_samples)
    changed = audio.copy()
    cut = config.clip_samples // 2
    changed[cut:] = np.random.default_rng(9).normal(scale=0.3, size=config.clip_samples - cut)
    a, b = frames(audio[None]).numpy()[0], frames(changed[None]).numpy()[0]
    hop = config.hop_samples  # step k has heard samples [0, (k + 1) * hop)
    before = cut // hop
    np.testing.assert_array_equal(a[:before], b[:before])
    assert np.abs(a[before:] - b[before:]).max() > 1e-3
    # The default network is bidirectional: its first steps hear the end.
    default = network(SpeechConfig(**TINY))
    frames = keras.Model(default.inputs, default.get_layer("recurrent").output)
    a, b = frames(audio[None]).numpy()[0], frames(changed[None]).numpy()[0]
    assert np.abs(a[0] - b[0]).max() > 1e-4


def test_causal_normalization_streams_what_it_computes_at_once():
    layer = UtteranceNormalization("mean_var", silence_level=-5.0, causal_frames=7)
    rng = np.random.default_rng(1)
    features = rng.normal(size=(2, 20, 5)).astype("float32")
    features[:, :4] = -10.0  # silent frames: left out of the statistics, set to 0
    whole = layer(features).numpy()
    state, parts = layer.initial_state(2, 5), []
    for start in range(0, 20, 3):  # hops of 3, 3, ..., 2 frames
        out, state = layer.stream(tf.constant(features[:, start : start + 3]), state)
        parts.append(out.numpy())
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, atol=1e-5)
    assert np.all(whole[:, :4] == 0.0)
    # Frame t depends on frames up to t only.
    later = features.copy()
    later[:, 12:] += 5.0
    np.testing.assert_array_equal(layer(later).numpy()[:, :12], whole[:, :12])


def test_a_run_without_streaming_has_no_streaming_model():
    config = SpeechConfig(**TINY)
    with pytest.raises(UserError, match="train it with --streaming"):
        StreamingClassifier(network(config), config)


def test_streaming_refuses_a_per_clip_floor():
    with pytest.raises(ValueError, match="--dynamic_range_db 0"):
        SpeechConfig(**TINY, streaming=True, dynamic_range_db=60.0)


def posteriors(hops: int, spans: dict[int, tuple[int, int]], classes: int = 3) -> np.ndarray:
    """Flat posteriors with class `c` at 0.95 over the hops of `spans[c]`."""
    out = np.full((hops, classes), 1.0 / classes)
    for label, (start, end) in spans.items():
        out[start:end] = 0.025
        out[start:end, label] = 0.95
    return out


def test_detect_smooths_thresholds_and_waits():
    names = ["a", "b", "_silence_"]
    # "a" for 30 hops (0.6 s at 20 ms), a one-hop blip of "b", "b" again after 2 s.
    probs = posteriors(200, {0: (10, 40)})
    probs[60] = [0.0, 1.0, 0.0]
    probs[150:180] = [0.0, 1.0, 0.0]
    found = detect(probs, 0.02, names, threshold=0.7, smoothing=0.1, refractory=1.0)
    # One "a" once 3 of the 5 hops averaged hold it (the refractory period hides the rest), no
    # blip, one "b".
    assert [(d.label, d.time) for d in found] == [("a", 0.26), ("b", 3.06)]
    assert found[0].score >= 0.7
    # Without smoothing the blip counts; with "b" ignored, only "a".
    assert [d.label for d in detect(probs, 0.02, names, smoothing=0.0)] == ["a", "b", "b"]
    assert [d.label for d in detect(probs, 0.02, names, ignore=["b"])] == ["a"]
    with pytest.raises(ValueError, match="probabilities must be"):
        detect(probs[:, :2], 0.02, names)


def test_compose_and_score_recordings():
    clips = [np.ones(800, np.float32) * 0.5, np.ones(400, np.float32) * 0.5]
    audio, events = compose_recording(clips, ["a", "b"], 8000, gap=(1.0, 1.0), noise=(0, 0))
    assert [(e.start, e.end, e.label) for e in events] == [(1.0, 1.1, "a"), (2.1, 2.15, "b")]
    assert len(audio) == 8000 * 3 + 1200 and audio[8000] == 0.5 and audio[7999] == 0.0
    found = [
        Detection(1.05, "a", 0.9),  # right
        Detection(1.5, "a", 0.9),  # a second "a": counted once
        Detection(2.5, "a", 0.9),  # wrong label
        Detection(3.5, "b", 0.9),  # after the 1 s it may take
    ]
    assert score(found, events) == {
        "events": 2,
        "detections": 4,
        "right": 1,
        "precision": 0.25,
        "recall": 0.5,
    }
    assert score([Detection(3.1, "b", 0.9)], [Event(2.1, 2.15, "b")])["recall"] == 1.0


def test_the_sound_gate_opens_for_a_clip_after_a_rise_above_the_floor():
    levels = np.full(200, -60.0)  # dB per hop: steady noise, one word, digital silence
    levels[50:60] = -20.0
    levels[150:] = -200.0
    gate = sound_gate(levels, clip_hops=25, floor_hops=100, gate_db=10.0)
    # Open from the word's first hop while it is within the last 25 hops; never in the
    # noise (no rise), nor when the noise stops (a drop is no word), nor in digital silence.
    assert np.flatnonzero(gate).tolist() == list(range(50, 84))
    assert not sound_gate(np.full(50, -20.0), 25, 100).any()  # loud but steady: no word
    assert hop_levels(np.full(320, 0.1, np.float32), 160).round(3).tolist() == [-20.0, -20.0]
