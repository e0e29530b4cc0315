"""Image bytes decode to the pixels Pillow gives, in TensorFlow ops; bad bytes are left out."""

import io
import struct

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from PIL import ImageOps

from shared.images import decode_image
from shared.images import exif_orientation
from shared.images import load_pixels
from shared.images import load_pixels_batch


def blocks(height=40, width=60, seed=0) -> np.ndarray:
    """A blocky RGB image (JPEG keeps its pixels close, a rotation shows)."""
    rng = np.random.default_rng(seed)
    small = (rng.random((height // 4, width // 4, 3)) * 255).astype(np.uint8)
    return np.kron(small, np.ones((4, 4, 1), np.uint8))


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def pillow_rgb(data: bytes) -> np.ndarray:
    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))


@pytest.mark.parametrize(
    "mode, fmt",
    [
        ("RGB", "JPEG"),
        ("L", "JPEG"),
        ("CMYK", "JPEG"),
        ("P", "PNG"),
        ("RGBA", "PNG"),
        ("LA", "PNG"),
        ("L", "PNG"),
    ],
)
def test_formats_decode_to_the_pixels_pillow_gives(mode, fmt):
    data = encode(
        Image.fromarray(blocks()).convert(mode), fmt, **({"quality": 95} if fmt == "JPEG" else {})
    )
    np.testing.assert_array_equal(decode_image(tf.constant(data)).numpy(), pillow_rgb(data))


def test_sixteen_bit_png_scales_to_eight_bits():
    values = (np.arange(40 * 60).reshape(40, 60) * 27).astype(np.uint16)
    decoded = decode_image(tf.constant(encode(Image.fromarray(values), "PNG"))).numpy()
    expected = np.round(values / 257.0)
    assert np.abs(decoded[..., 0].astype(int) - expected).max() <= 1
    assert (decoded[..., 0] == decoded[..., 2]).all()


def tiff_exif(orientation: int, little: bool) -> bytes:
    """An EXIF block with a camera make first, then the orientation, in either byte order."""
    order = "<" if little else ">"
    entries = [(0x010F, 2, 4, b"Cam\0"), (0x0112, 3, 1, struct.pack(order + "HH", orientation, 0))]
    ifd = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(order + "HHI", tag, kind, count) + value
    header = (b"II" if little else b"MM") + struct.pack(order + "HI", 42, 8)
    return b"Exif\0\0" + header + ifd + struct.pack(order + "I", 0)


@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_does(orientation, little):
    data = encode(
        Image.fromarray(blocks()), "JPEG", quality=95, exif=tiff_exif(orientation, little)
    )
    assert int(exif_orientation(tf.constant(data))) == orientation
    np.testing.assert_array_equal(decode_image(tf.constant(data)).numpy(), pillow_rgb(data))


def test_bytes_that_are_no_image_fail_to_decode():
    jpeg = encode(Image.fromarray(blocks()), "JPEG")
    for data in (
        jpeg[: len(jpeg) // 2],
        b"",
        b"GIF89a nonsense",
        encode(Image.fromarray(blocks()), "PNG")[:100],
    ):
        with pytest.raises(tf.errors.InvalidArgumentError):
            decode_image(tf.constant(data))
    assert int(exif_orientation(tf.constant(b"\xff\xd8 short"))) == 1


def test_a_batch_decodes_each_image_on_its_own():
    png = encode(Image.fromarray(blocks()), "PNG")
    jpeg = encode(Image.fromarray(blocks(seed=1)), "JPEG")
    batch = tf.function(lambda images: load_pixels_batch(images, 16))
    valid, pixels = batch(tf.constant([png, b"junk", jpeg, jpeg[:200]]))
    assert valid.numpy().tolist() == [True, False, True, False]
    assert pixels.shape == (4, 16, 16, 3) and not pixels[1].numpy().any()
    alone = load_pixels(tf.constant(jpeg), 16).numpy()
    assert (pixels[2].numpy() == alone).all()
    valid, pixels = batch(tf.constant([b"junk"]))
    assert valid.numpy().tolist() == [False] and pixels.shape == (1, 16, 16, 3)
    valid, pixels = batch(tf.constant([], tf.string))
    assert valid.shape == (0,) and pixels.shape == (0, 16, 16, 3)
