"""The image cache: computed once per image content and backbone, unreadable images left out."""

import numpy as np
import pytest

from apps.captioning.captions import Vocabulary
from apps.captioning.config import CaptioningConfig
from apps.captioning.data import load_splits
from apps.captioning.features import FeatureCache
from apps.captioning.features import image_captions
from apps.captioning.features import make_dataset
from shared.backbones import build_backbone
from shared.errors import UserError
from tests.apps.captioning.conftest import small_shapes


def test_pixels_are_cached_once_and_unreadable_images_are_left_out(tmp_path, capsys):
    root = small_shapes(tmp_path / "data", train=12, test=2)
    config = CaptioningConfig(
        data_dir=str(root), backbone_weights="none", image_size=16, cache_dir=str(tmp_path / "c")
    )
    split = load_splits(config).splits["train"]
    broken = split.records[2]
    broken.path.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    first = FeatureCache(config).prepare(split, "train")
    assert first.unreadable == [broken.name] and broken.name in capsys.readouterr().out
    assert first.computed == len(split.records) - 1 and first.reused == 0
    second = FeatureCache(config).prepare(split, "train")
    assert second.computed == 0 and second.reused == first.computed
    assert second.files == first.files
    vocabulary = Vocabulary.learn([c.split() for r in split.records for c in r.captions], 1)
    captioned, too_long = image_captions(second, vocabulary, max_length=4)
    assert too_long == sum(len(c.split()) > 4 for r in second.records for c in r.captions)
    assert captioned.captions + too_long == sum(len(r.captions) for r in second.records)
    batches = list(make_dataset(FeatureCache(config), captioned, config, training=True))
    inputs, targets = batches[0]
    assert inputs["image"].dtype == "uint8" and inputs["image"].shape[1:] == (16, 16, 3)
    np.testing.assert_array_equal(inputs["caption_in"][:, 1:], targets[:, :-1])
    # One epoch: every usable caption once, each with its own image.
    assert sum(len(t) for _, t in batches) == captioned.captions
    expected = sorted(
        (file, tuple(row[1 : np.count_nonzero(row)]))
        for file, ids, count in zip(captioned.files, captioned.ids, captioned.counts)
        for row in ids[:count]
    )
    pixels = {FeatureCache(config).read(f).numpy().tobytes(): f for f in captioned.files}
    seen = sorted(
        (pixels[image.tobytes()], tuple(t[: np.count_nonzero(t)]))
        for inputs, targets in batches
        for image, t in zip(inputs["image"].numpy(), targets.numpy())
    )
    assert seen == expected


def test_a_weights_file_feeds_a_frozen_backbone_whose_features_are_cached(tmp_path):
    root = small_shapes(tmp_path / "data", train=6, test=2)
    base = CaptioningConfig(backbone="mobilenetv3small", backbone_weights="none", image_size=32)
    weights = tmp_path / "mobilenet.weights.h5"
    model = build_backbone_for_test(base)
    model.save_weights(weights)
    config = CaptioningConfig(
        data_dir=str(root),
        backbone="mobilenetv3small",
        backbone_weights=str(weights),
        image_size=32,
        cache_dir=str(tmp_path / "cache"),
    )
    cache = FeatureCache(config)
    assert cache.folder.name.startswith("mobilenetv3small-file-") and cache.shape == (1, 576)
    split = load_splits(config).splits["train"]
    images = cache.prepare(split, "train")
    assert images.computed == len(split.records)
    assert FeatureCache(config).prepare(split, "train").reused == len(split.records)
    stored = cache.read(images.files[0]).numpy()
    pixels = cache._decode(split.records[0].path.read_bytes()).numpy()
    expected = cache.backbone.predict_on_batch(pixels[None].astype("float32"))[0]
    np.testing.assert_allclose(stored, expected, rtol=1e-2, atol=1e-2)  # stored as float16


def build_backbone_for_test(config):
    """The architecture of `--backbone` with random weights (what a test can save)."""
    import keras

    return keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(config.input_size, config.input_size, 3)
    )


def test_a_missing_weights_file_is_a_clear_error(tmp_path):
    config = CaptioningConfig(backbone_weights=str(tmp_path / "nope.h5"))
    with pytest.raises(UserError, match="nope.h5: no such file"):
        build_backbone(config)
