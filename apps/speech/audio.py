"""Waveform operations in TensorFlow ops, shared by the data pipeline and the serving graph.

Resampling, fitting a clip to the model's length, and the training augmentations (time shift,
speed perturbation, background noise at a random SNR).
"""

import math

import tensorflow as tf

from apps.speech.wav import decode_wav

# Windowed-sinc resampler: zero crossings of the sinc on each side and the Kaiser window's beta
# (about 80 dB stop-band attenuation, as in resampy's "kaiser_best" family).
ZERO_CROSSINGS = 16
KAISER_BETA = 8.6


def resample(
    audio: tf.Tensor,
    rate_in: tf.Tensor,
    rate_out: tf.Tensor,
    zero_crossings: int = ZERO_CROSSINGS,
) -> tf.Tensor:
    """Band-limited resampling of a 1-D signal from `rate_in` to `rate_out` (any ratio).

    Each output sample is the input convolved with a Kaiser-windowed sinc centred on its exact
    position in the input; when downsampling, the sinc's cut-off moves down to the new Nyquist
    frequency so nothing aliases. Equal rates return the input unchanged. Fewer
    `zero_crossings` are faster and filter less sharply (enough for augmentation).
    """
    audio = tf.convert_to_tensor(audio, tf.float32)
    rate_in = tf.cast(rate_in, tf.float64)
    rate_out = tf.cast(rate_out, tf.float64)

    def interpolate():
        ratio = rate_out / rate_in
        size_in = tf.size(audio, out_type=tf.int64)
        size_out = tf.cast(tf.math.ceil(tf.cast(size_in, tf.float64) * ratio - 1e-9), tf.int64)
        cutoff = tf.minimum(ratio, 1.0)  # fraction of the input Nyquist frequency kept
        half_width = tf.cast(tf.math.ceil(zero_crossings / cutoff), tf.int64)
        position = tf.cast(tf.range(size_out), tf.float64) / ratio  # in input samples
        left = tf.cast(tf.math.floor(position), tf.int64)
        offsets = tf.range(-half_width + 1, half_width + 1, dtype=tf.int64)
        index = left[:, None] + offsets[None, :]  # [size_out, taps]
        distance = tf.cast(position[:, None] - tf.cast(index, tf.float64), tf.float32)
        cutoff32 = tf.cast(cutoff, tf.float32)
        window_arg = distance / tf.cast(half_width, tf.float32)
        window = tf.math.bessel_i0(
            KAISER_BETA * tf.sqrt(tf.maximum(1.0 - tf.square(window_arg), 0.0))
        ) / tf.math.bessel_i0(tf.constant(KAISER_BETA, tf.float32))
        kernel = cutoff32 * _sinc(cutoff32 * distance) * window
        inside = (index >= 0) & (index < size_in)
        values = tf.gather(audio, tf.clip_by_value(index, 0, tf.maximum(size_in - 1, 0)))
        values = tf.where(inside, values, 0.0)
        return tf.reduce_sum(values * kernel, axis=1)

    same = tf.equal(rate_in, rate_out) | tf.equal(tf.size(audio), 0)
    return tf.cond(same, lambda: audio, interpolate)


def _sinc(x: tf.Tensor) -> tf.Tensor:
    safe = tf.where(tf.equal(x, 0.0), tf.ones_like(x), x)
    return tf.where(tf.equal(x, 0.0), tf.ones_like(x), tf.sin(math.pi * safe) / (math.pi * safe))


def centre(audio: tf.Tensor, length: int | tf.Tensor) -> tf.Tensor:
    """Fit clips `[batch, samples]` (any number of samples) to `[batch, length]`.

    Each clip is placed so that its energy centroid, weighted towards the loudest part, sits in
    the middle: long clips are cropped around the speech, short ones padded on both sides.
    Zeros appended to a clip (to batch clips of different lengths) do not change the result.
    """
    audio = tf.convert_to_tensor(audio, tf.float32)
    audio = tf.pad(audio, [[0, 0], [0, 1]])  # one appended zero changes nothing; none is empty
    samples = tf.shape(audio)[1]
    power = tf.square(tf.square(audio))  # x^4: the loudest region dominates background noise
    total = tf.reduce_sum(power, axis=1)
    time = tf.cast(tf.range(samples), tf.float32)
    centroid = tf.math.divide_no_nan(tf.reduce_sum(power * time, axis=1), total)
    # Silence (no energy) is centred by its length. The cast keeps the float32 sums exact enough.
    centroid = tf.where(total > 0, centroid, tf.cast(samples - 1, tf.float32) / 2.0)
    half = (tf.cast(length, tf.float32) - 1.0) / 2.0
    start = tf.cast(tf.round(centroid - half), tf.int32)
    index = start[:, None] + tf.range(length)[None, :]
    inside = (index >= 0) & (index < samples)
    values = tf.gather(audio, tf.clip_by_value(index, 0, samples - 1), batch_dims=1)
    return tf.where(inside, values, 0.0)


def centre_one(audio: tf.Tensor, length: int | tf.Tensor) -> tf.Tensor:
    """`centre` for one clip `[samples]`."""
    return centre(audio[None, :], length)[0]


def load_audio(contents: tf.Tensor, sample_rate: int | tf.Tensor) -> tf.Tensor:
    """WAV bytes to mono float32 `[samples]` at `sample_rate`."""
    audio, rate, _ = decode_wav(contents)
    return resample(audio, rate, sample_rate)


def load_clip(contents: tf.Tensor, sample_rate: int, length: int) -> tf.Tensor:
    """WAV bytes to a centred mono clip `[length]` at `sample_rate`."""
    return centre_one(load_audio(contents, sample_rate), length)


# === Training augmentation (stateless: each op takes a seed `[2]`) ===


def time_shift(audio: tf.Tensor, max_shift: int, seed: tf.Tensor) -> tf.Tensor:
    """Shift a clip `[samples]` by up to `max_shift` samples either way, filling with zeros."""
    shift = tf.random.stateless_uniform([], seed, -max_shift, max_shift + 1, dtype=tf.int32)
    length = tf.shape(audio)[0]
    padded = tf.pad(audio, [[max_shift, max_shift]])
    return padded[max_shift - shift : max_shift - shift + length]


def change_speed(audio: tf.Tensor, max_change: float, seed: tf.Tensor) -> tf.Tensor:
    """Play a clip faster or slower by a random factor in `1 +- max_change` (tempo and pitch
    together, as Kaldi's speed perturbation), then fit it back to its length."""
    factor = tf.random.stateless_uniform([], seed, 1.0 - max_change, 1.0 + max_change)
    faster = resample(audio, factor, 1.0, zero_crossings=4)
    return centre_one(faster, tf.shape(audio)[0])


def coloured_noise(length: int, seed: tf.Tensor) -> tf.Tensor:
    """White or pink (1/f power) Gaussian noise `[length]`, with unit power."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    white = tf.random.stateless_normal([length], seeds[0])
    spectrum = tf.signal.rfft(white)
    bins = tf.cast(tf.range(tf.shape(spectrum)[0]), tf.float32)
    pink = tf.signal.irfft(spectrum / tf.cast(tf.sqrt(tf.maximum(bins, 1.0)), tf.complex64))
    pink = pink[:length]
    is_pink = tf.random.stateless_uniform([], seeds[1]) < 0.5
    noise = tf.where(is_pink, pink, white)
    return noise / tf.sqrt(tf.reduce_mean(tf.square(noise)) + 1e-12)


def add_noise(
    audio: tf.Tensor,
    noise_bank: tf.Tensor,
    snr_range: tuple[float, float],
    seed: tf.Tensor,
) -> tf.Tensor:
    """Mix a clip with noise at a random signal-to-noise ratio (dB) in `snr_range`.

    The noise is a random clip-length segment of `noise_bank` `[segments, samples]` (background
    recordings), or generated white/pink noise when the bank is empty.
    """
    seeds = tf.random.experimental.stateless_split(seed, 3)
    length = tf.shape(audio)[0]
    count = tf.shape(noise_bank)[0]
    pick = tf.random.stateless_uniform([], seeds[0], 0, tf.maximum(count, 1), dtype=tf.int32)
    noise = tf.cond(
        count > 0,
        lambda: noise_bank[pick],
        lambda: coloured_noise(length, seeds[1]),
    )
    snr = tf.random.stateless_uniform([], seeds[2], snr_range[0], snr_range[1])
    signal_power = tf.reduce_mean(tf.square(audio))
    noise_power = tf.reduce_mean(tf.square(noise)) + 1e-12
    scale = tf.sqrt(signal_power / (noise_power * tf.pow(10.0, snr / 10.0)))
    return audio + scale * noise
