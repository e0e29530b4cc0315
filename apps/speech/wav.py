"""WAV files in TensorFlow ops: one decoder for the data pipeline and the serving graph.

`tf.audio.decode_wav` reads 16-bit PCM only. Real recordings also come as 8-, 24- and 32-bit PCM,
32/64-bit float and WAVE_FORMAT_EXTENSIBLE, so the RIFF chunks are parsed here with string and
`decode_raw` ops. Because the same function runs in `tf.data` and inside the export, a clip sent
as WAV bytes to the server is decoded exactly as it was in training.
"""

import re
import struct

import numpy as np
import tensorflow as tf

# (format tag, bits per sample) -> branch of `_decode_samples`. Tag 1 = PCM, 3 = IEEE float.
_FORMATS = ((1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64))
_EXTENSIBLE = 0xFFFE


def _substr(contents: tf.Tensor, offset: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """Bytes `[offset, offset + size)`, cut at the end; never an error for a bad offset.

    Graph ops do not run in source order, so reads must be safe even where a later check
    fails; the checks then report what is wrong with the file.
    """
    length = tf.strings.length(contents, unit="BYTE")
    offset = tf.clip_by_value(tf.cast(offset, tf.int64), 0, tf.cast(length, tf.int64))
    return tf.strings.substr(contents, offset, tf.maximum(tf.cast(size, tf.int64), 0))


def _uint(contents: tf.Tensor, offset: tf.Tensor, size: int) -> tf.Tensor:
    """Little-endian unsigned integer of `size` bytes at `offset` (0 past the end), as int64."""
    raw = tf.io.decode_raw(_substr(contents, offset, size), tf.uint8)
    raw = tf.pad(raw, [[0, size - tf.shape(raw)[0]]])
    weights = tf.constant([256**i for i in range(size)], tf.int64)
    return tf.reduce_sum(tf.cast(raw, tf.int64) * weights)


def _check(condition: tf.Tensor, message: str) -> None:
    tf.debugging.Assert(condition, [f"WAV: {message}"])


def _find_chunks(contents: tf.Tensor, length: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """Offsets of the `fmt ` and `data` chunk bodies (-1 if absent) and the data size."""

    def searching(offset, fmt, data, data_size):
        return (offset + 8 <= length) & ((fmt < 0) | (data < 0))

    def next_chunk(offset, fmt, data, data_size):
        chunk_id = _substr(contents, offset, 4)
        size = _uint(contents, offset + 4, 4)
        body = offset + 8
        fmt = tf.where(tf.equal(chunk_id, "fmt ") & (fmt < 0), body, fmt)
        is_data = tf.equal(chunk_id, "data") & (data < 0)
        data = tf.where(is_data, body, data)
        data_size = tf.where(is_data, size, data_size)
        return body + size + size % 2, fmt, data, data_size  # chunks are word-aligned

    start = tf.constant(12, tf.int64)
    missing = tf.constant(-1, tf.int64)
    _, fmt, data, data_size = tf.while_loop(
        searching, next_chunk, (start, missing, missing, missing)
    )
    return fmt, data, data_size


def _decode_samples(raw: tf.Tensor, branch: tf.Tensor) -> tf.Tensor:
    """Interleaved samples of one of `_FORMATS` as float32 in [-1, 1]."""

    def whole(width):  # decode_raw needs a multiple of the sample width
        size = tf.strings.length(raw, unit="BYTE")
        return tf.strings.substr(raw, 0, size // width * width)

    def pcm8():
        return (tf.cast(tf.io.decode_raw(whole(1), tf.uint8), tf.float32) - 128.0) / 128.0

    def pcm16():
        return tf.cast(tf.io.decode_raw(whole(2), tf.int16), tf.float32) / 32768.0

    def pcm24():
        triples = tf.reshape(tf.cast(tf.io.decode_raw(whole(3), tf.uint8), tf.int32), [-1, 3])
        value = triples[:, 0] + triples[:, 1] * 256 + triples[:, 2] * 65536
        value = tf.where(value >= 2**23, value - 2**24, value)  # two's complement sign
        return tf.cast(value, tf.float32) / float(2**23)

    def pcm32():
        return tf.cast(
            tf.cast(tf.io.decode_raw(whole(4), tf.int32), tf.float64) / 2.0**31, tf.float32
        )

    def float32():
        return tf.io.decode_raw(whole(4), tf.float32)

    def float64():
        return tf.cast(tf.io.decode_raw(whole(8), tf.float64), tf.float32)

    return tf.switch_case(branch, [pcm8, pcm16, pcm24, pcm32, float32, float64])


def decode_wav(contents: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Decode the bytes of one WAV file to (mono float32 `[samples]`, sample rate, channels).

    Channels are averaged to mono. An invalid file raises `tf.errors.InvalidArgumentError`
    whose message starts with "WAV:" (see `wav_error`).
    """
    contents = tf.convert_to_tensor(contents, tf.string)
    length = tf.strings.length(contents, unit="BYTE")
    length = tf.cast(length, tf.int64)
    riff, wave = _substr(contents, 0, 4), _substr(contents, 8, 4)
    _check(tf.equal(riff, "RIFF") & tf.equal(wave, "WAVE"), "not a RIFF/WAVE file")
    fmt, data, data_size = _find_chunks(contents, length)
    _check((fmt >= 0) & (fmt + 16 <= length), "no complete 'fmt ' chunk")
    _check(data >= 0, "no 'data' chunk")

    tag = _uint(contents, fmt, 2)
    channels = _uint(contents, fmt + 2, 2)
    rate = _uint(contents, fmt + 4, 4)
    block_align = _uint(contents, fmt + 12, 2)
    bits = _uint(contents, fmt + 14, 2)
    has_subformat = tf.equal(tag, _EXTENSIBLE) & (fmt + 26 <= length)
    tag = tf.where(has_subformat, _uint(contents, fmt + 24, 2), tag)

    supported = [tf.equal(tag, t) & tf.equal(bits, b) for t, b in _FORMATS]
    _check(tf.reduce_any(tf.stack(supported)), "unsupported sample format (need PCM or float)")
    _check((channels >= 1) & (rate >= 1), "zero channels or zero sample rate")
    _check(tf.equal(block_align, channels * bits // 8), "inconsistent block size")

    # Streaming writers leave the data size at 0 or 0xFFFFFFFF: read what the file holds.
    available = tf.maximum(length - data, 0)
    data_size = tf.where((data_size <= 0) | (data_size > available), available, data_size)
    block_align = tf.maximum(block_align, 1)
    frames = data_size // block_align
    raw = _substr(contents, data, frames * block_align)
    branch = tf.argmax(tf.cast(tf.stack(supported), tf.int32), output_type=tf.int32)
    width = tf.cast(tf.maximum(channels, 1), tf.int32)
    samples = _decode_samples(raw, branch)
    samples = tf.reshape(samples[: tf.size(samples) // width * width], [-1, width])
    audio = tf.reduce_mean(samples, axis=1)
    _check(tf.reduce_all(tf.math.is_finite(audio)), "samples contain NaN or infinity")
    return audio, tf.cast(rate, tf.int32), tf.cast(channels, tf.int32)


def wav_error(error: tf.errors.OpError) -> str:
    """The readable reason inside a `decode_wav` assertion error."""
    found = re.search(r"WAV: ([^\]\n]+)", error.message)
    if found:
        return found.group(1).strip().rstrip("'\"")
    return error.message.strip().splitlines()[0]


def encode_wav(
    audio: np.ndarray, sample_rate: int, *, bits: int = 16, floating: bool = False
) -> bytes:
    """WAV bytes for float samples in [-1, 1], `[samples]` or `[samples, channels]`.

    PCM with 8, 16, 24 or 32 bits, or IEEE float with 32 or 64 bits (`floating=True`).
    """
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim == 1:
        audio = audio[:, None]
    channels = audio.shape[1]
    if floating:
        data = audio.astype("<f4" if bits == 32 else "<f8").tobytes()
    elif bits == 8:
        data = np.clip(np.round(audio * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    else:
        scale = 2 ** (bits - 1)
        ints = np.clip(np.round(audio * scale), -scale, scale - 1).astype("<i8")
        data = b"".join(
            value.to_bytes(bits // 8, "little", signed=True) for value in ints.reshape(-1).tolist()
        )
    block_align = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH",
        3 if floating else 1,
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        bits,
    )
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
