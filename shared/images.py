"""Image bytes to model pixels, in TensorFlow ops: the same code runs in training and serving.

`decode_image` decodes JPEG (with the accurate IDCT, pixel-exact with libjpeg/Pillow) and PNG,
turns grayscale, CMYK, palette and alpha images into RGB, and applies the EXIF orientation of
JPEGs, as Pillow's `ImageOps.exif_transpose` does. `load_pixels` resizes the result to the
model's square input (the whole image, squeezed: a caption describes all of it);
`resize_and_crop` keeps the aspect ratio and crops the centre (video frames).
"""

import tensorflow as tf

from shared.served import readable

EXIF_SEARCH_BYTES = 65536  # an EXIF APP1 segment is at most 64 KiB, near the file start
MAX_IFD_ENTRIES = 64
ORIENTATION_TAG = 0x0112


def _u16(data, offset, little):
    lo, hi = tf.gather(data, offset), tf.gather(data, offset + 1)
    return tf.where(little, lo + 256 * hi, 256 * lo + hi)


def _u32(data, offset, little):
    b = [tf.gather(data, offset + i) for i in range(4)]
    big = ((b[0] * 256 + b[1]) * 256 + b[2]) * 256 + b[3]
    small = ((b[3] * 256 + b[2]) * 256 + b[1]) * 256 + b[0]
    return tf.where(little, small, big)


def exif_orientation(encoded: tf.Tensor) -> tf.Tensor:
    """The EXIF orientation (1-8) of a JPEG's bytes; 1 when there is none or it is unreadable."""
    head = tf.io.decode_raw(tf.strings.substr(encoded, 0, EXIF_SEARCH_BYTES), tf.uint8)
    data = tf.cast(head, tf.int64)
    size = tf.size(data, out_type=tf.int64)
    # Pad so that every read below is in range; reads past the real data see zeros.
    data = tf.concat([data, tf.zeros([16 + 12 * MAX_IFD_ENTRIES], tf.int64)], 0)
    is_jpeg = tf.logical_and(size > 16, tf.reduce_all(data[:2] == [0xFF, 0xD8]))
    marker = tf.constant([0x45, 0x78, 0x69, 0x66, 0, 0], tf.int64)  # "Exif\0\0"
    windows = tf.signal.frame(data[: tf.maximum(size, 6)], 6, 1)
    hits = tf.where(tf.reduce_all(windows == marker, axis=1))[:, 0]
    found = tf.logical_and(is_jpeg, tf.size(hits) > 0)
    tiff = tf.cond(tf.size(hits) > 0, lambda: hits[0] + 6, lambda: tf.constant(0, tf.int64))
    little = tf.gather(data, tiff) == 0x49  # "II": little endian, "MM": big endian
    ifd = tiff + _u32(data, tiff + 4, little)
    ifd = tf.where(tf.logical_and(found, ifd + 2 < size), ifd, 0)
    count = tf.minimum(_u16(data, ifd, little), MAX_IFD_ENTRIES)
    entries = ifd + 2 + 12 * tf.range(MAX_IFD_ENTRIES, dtype=tf.int64)
    tags = _u16(data, entries, little)
    values = _u16(data, entries + 8, little)
    valid = (tf.range(MAX_IFD_ENTRIES, dtype=tf.int64) < count) & (tags == ORIENTATION_TAG)
    valid &= (entries + 12 <= size) & (values >= 1) & (values <= 8) & found & (ifd > 0)
    orientation = tf.reduce_max(tf.where(valid, values, 1))
    return tf.cast(orientation, tf.int32)


def apply_orientation(image: tf.Tensor, orientation: tf.Tensor) -> tf.Tensor:
    """`image [h, w, c]` turned upright for an EXIF orientation 1-8."""
    transpose = lambda x: tf.transpose(x, [1, 0, 2])  # noqa: E731
    branches = [
        lambda: image,
        lambda: tf.image.flip_left_right(image),
        lambda: tf.image.rot90(image, 2),
        lambda: tf.image.flip_up_down(image),
        lambda: transpose(image),
        lambda: tf.image.rot90(image, 3),
        lambda: tf.image.rot90(transpose(image), 2),
        lambda: tf.image.rot90(image, 1),
    ]
    return tf.switch_case(tf.clip_by_value(orientation - 1, 0, 7), branches)


def decode_image(encoded: tf.Tensor) -> tf.Tensor:
    """uint8 `[height, width, 3]` RGB from JPEG or PNG bytes (EXIF orientation applied).

    Raises `tf.errors.InvalidArgumentError` on bytes that are no complete image.
    """
    image = tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: apply_orientation(
            tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
            exif_orientation(encoded),
        ),
        lambda: tf.io.decode_image(encoded, channels=3, expand_animations=False),
    )
    image.set_shape([None, None, 3])
    return image


def resize_pixels(image: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 `[size, size, 3]`: the whole image resized (antialiased), rounded back to uint8."""
    resized = tf.image.resize(tf.cast(image, tf.float32), [size, size], antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)


def resize_and_crop(images: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 `[..., size, size, 3]`: the shorter side resized to `size` (antialiased), the
    centre cropped out of the longer one. Works on one image or a batch of equal-sized ones."""
    height = tf.cast(tf.shape(images)[-3], tf.float32)
    width = tf.cast(tf.shape(images)[-2], tf.float32)
    scale = size / tf.minimum(height, width)
    new_height = tf.maximum(size, tf.cast(tf.round(height * scale), tf.int32))
    new_width = tf.maximum(size, tf.cast(tf.round(width * scale), tf.int32))
    resized = tf.image.resize(tf.cast(images, tf.float32), [new_height, new_width], antialias=True)
    top = (new_height - size) // 2
    left = (new_width - size) // 2
    cropped = resized[..., top : top + size, left : left + size, :]
    return tf.cast(tf.round(tf.clip_by_value(cropped, 0.0, 255.0)), tf.uint8)


def load_pixels(encoded: tf.Tensor, size: int) -> tf.Tensor:
    """Encoded image -> the model's uint8 `[size, size, 3]` input."""
    return resize_pixels(decode_image(encoded), size)


def load_pixels_batch(encoded: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """The pixels of a batch of encoded images, and which decoded.

    `encoded` string `[batch]` -> `(valid bool [batch], pixels uint8 [batch, size, size, 3])`,
    zeros where an element is no image (`shared.served.readable`): one bad element does not
    fail the whole batch (a server must answer the other requests).
    """
    spec = tf.TensorSpec([size, size, 3], tf.uint8)
    return readable(lambda data: load_pixels(data, size), encoded, spec)
