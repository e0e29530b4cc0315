"""The classifier: padding is invisible, the clip mean cancels the scene, it saves and loads."""

import keras
import numpy as np
import pytest

from apps.video.config import VideoConfig
from apps.video.inputs import FrameInput
from apps.video.model import ClipMeanSubtraction
from apps.video.model import attention_model
from apps.video.model import build_classifier
from apps.video.model import build_model
from apps.video.model import compile_model


def tiny(**overrides) -> VideoConfig:
    values = dict(backbone_weights="none", image_size=16, units=8, frame_units=8)
    return VideoConfig(**{**values, **overrides})


@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_frames_after_a_clips_length_change_nothing(pooling):
    model = build_model(tiny(pooling=pooling), num_classes=3, frame_shape=(16, 16, 3))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 6, 16, 16, 3)).astype(np.uint8)
    length = np.array([6, 3], np.int32)
    noisy = frames.copy()
    noisy[1, 3:] = rng.integers(0, 256, (3, 16, 16, 3))
    first = model({"frames": frames, "length": length}).numpy()
    second = model({"frames": noisy, "length": length}).numpy()
    np.testing.assert_allclose(first, second, atol=1e-6)
    shorter = model({"frames": frames[:, :3], "length": np.array([3, 3], np.int32)}).numpy()
    np.testing.assert_allclose(first[1], shorter[1], atol=1e-5)
    # A clip of no frames is its first frame alone: never a fully masked row.
    empty = model({"frames": frames, "length": np.array([0, 1], np.int32)}).numpy()
    np.testing.assert_allclose(empty[0], empty[1], atol=1e-5)
    assert np.isfinite(empty).all()


def test_clip_mean_subtraction_cancels_what_does_not_change():
    frames = np.zeros((1, 4, 2, 2, 3), np.float32)
    frames[...] = 100.0  # the scene
    frames[0, 1, 0, 0] = 250.0  # something passing by
    frames[0, 3] = 7.0  # padding
    mask = np.array([[True, True, True, False]])
    out = ClipMeanSubtraction()(frames, mask).numpy()
    assert out[0, 3].max() == 0.0  # padding stays zero
    np.testing.assert_allclose(out[0, :3, 1, 1], 0.0, atol=1e-5)  # the static scene cancels
    np.testing.assert_allclose(out[0, :3, 0, 0, 0], [-50.0, 100.0, -50.0], atol=1e-4)


def test_the_model_saves_and_loads_with_its_layers(tmp_path):
    config = tiny()
    model = compile_model(
        build_model(config, num_classes=7, frame_shape=(16, 16, 3)), config, num_classes=7
    )
    inputs = {
        "frames": np.random.default_rng(1).integers(0, 256, (2, 5, 16, 16, 3)).astype(np.uint8),
        "length": np.array([5, 2], np.int32),
    }
    scores = model.evaluate(inputs, np.array([0, 6]), return_dict=True, verbose=0)
    assert "top5_accuracy" in scores  # more than five classes
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(model(inputs).numpy(), loaded(inputs).numpy(), atol=1e-6)
    probabilities, weights = attention_model(loaded)(inputs)
    assert weights.shape == (2, 5)
    np.testing.assert_allclose(weights.numpy().sum(1), 1.0, atol=1e-5)
    assert weights.numpy()[1, 2:].max() == 0.0


def tiny_backbone(size: int = 16) -> keras.Model:
    """A stand-in for a frozen keras.applications CNN: `[n, size, size, 3]` -> `[n, 5]`."""
    pixels = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(5, 3, strides=4, name="conv")(pixels)
    return keras.Model(pixels, keras.layers.GlobalAveragePooling2D()(x), name="backbone")


def test_a_classifier_with_a_frozen_backbone_saves_it_and_classifies_raw_frames(tmp_path):
    """With pretrained features the backbone is part of the saved model: raw frames in."""
    config = tiny(backbone_weights="imagenet", class_names=("a", "b", "c"), num_frames=4)
    frame_input = FrameInput(4, 0, 16, tiny_backbone(), name="frame_input")
    model = build_classifier(config, frame_input)
    assert not frame_input.backbone.trainable
    trainable = {id(w) for w in model.trainable_weights}
    assert not any(id(w) in trainable for w in frame_input.backbone.weights)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    np.testing.assert_allclose(
        restored.preprocessor.backbone.get_layer("conv").get_weights()[0],
        frame_input.backbone.get_layer("conv").get_weights()[0],
    )
    frames = np.random.default_rng(1).integers(0, 256, (2, 7, 21, 30, 3), dtype=np.uint8)
    frames[1, 3:] = 0  # a shorter clip, padded
    np.testing.assert_allclose(restored.predict(frames), model.predict(frames), atol=1e-6)
    assert restored.predict(frames).shape == (2, 3)
