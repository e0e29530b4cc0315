import json

import numpy as np
import tensorflow as tf

from shared.feature_cache import FeatureCache
from shared.feature_cache import content_key


def test_entries_round_trip_by_content_with_their_rows(tmp_path):
    cache = FeatureCache(tmp_path, "mobilenet-file-abc-96", (2, 3), np.float16)
    cache.open()
    assert json.loads((cache.folder / "meta.json").read_text()) == {
        "row_shape": [2, 3],
        "dtype": "float16",
    }
    key = content_key(b"clip bytes")
    assert key == content_key(b"clip bytes") != content_key(b"other bytes")
    assert cache.rows(key) == 0
    values = np.arange(30, dtype=np.float32).reshape(5, 2, 3)
    path = cache.write(key, values)
    assert path == cache.path(key) and path.parent.name == key[:2]
    assert cache.rows(key) == 5
    np.testing.assert_array_equal(cache.load(key), values)
    read = cache.read(tf.constant(str(path)))
    assert read.dtype == tf.float32 and read.shape == (5, 2, 3)  # floats come back as float32
    np.testing.assert_array_equal(read.numpy(), values)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_pixels_stay_uint8(tmp_path):
    cache = FeatureCache(tmp_path, "pixels-4", (4, 4, 3), np.uint8)
    pixels = np.random.default_rng(0).integers(0, 256, (1, 4, 4, 3), dtype=np.uint8)
    path = cache.write(content_key(b"image"), pixels)
    read = cache.read(tf.constant(str(path)))
    assert read.dtype == tf.uint8
    np.testing.assert_array_equal(read.numpy(), pixels)
