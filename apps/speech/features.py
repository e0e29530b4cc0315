"""Layers that put the audio front end inside the model: log-mel, per-clip norm, SpecAugment."""

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="speech")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveforms `[batch, samples]` to log-mel features `[batch, frames, mel_bins]`.

    Unlike `keras.layers.MelSpectrogram`, whose dB floor is taken from the loudest value of the
    whole batch, every clip here is computed on its own (`log(mel + 1e-6)`), so a clip gets the
    same features alone or in any batch.

    Args:
        sample_rate: int. Sample rate of the input.
        frame_length: int. STFT window in samples (Hann).
        frame_step: int. Hop between frames in samples.
        mel_bins: int. Number of mel bands.
        min_frequency, max_frequency: float. Band edges in Hz (`max_frequency=0`: Nyquist).
    """

    def __init__(
        self,
        sample_rate,
        frame_length,
        frame_step,
        mel_bins,
        min_frequency=20.0,
        max_frequency=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_rate = sample_rate
        self.frame_length = frame_length
        self.frame_step = frame_step
        self.mel_bins = mel_bins
        self.min_frequency = min_frequency
        self.max_frequency = max_frequency
        self.fft_length = int(2 ** (frame_length - 1).bit_length())

    def call(self, audio):
        stft = tf.signal.stft(
            tf.cast(audio, tf.float32),
            self.frame_length,
            self.frame_step,
            fft_length=self.fft_length,
            pad_end=False,
        )
        power = tf.square(tf.abs(stft))
        weights = tf.signal.linear_to_mel_weight_matrix(
            self.mel_bins,
            self.fft_length // 2 + 1,
            self.sample_rate,
            self.min_frequency,
            self.max_frequency or self.sample_rate / 2,
        )
        return tf.math.log(tf.tensordot(power, weights, 1) + 1e-6)

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        frames = None if samples is None else 1 + (samples - self.frame_length) // self.frame_step
        return (input_shape[0], frames, self.mel_bins)

    def get_config(self):
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            frame_length=self.frame_length,
            frame_step=self.frame_step,
            mel_bins=self.mel_bins,
            min_frequency=self.min_frequency,
            max_frequency=self.max_frequency,
        )
        return config


@keras.saving.register_keras_serializable(package="speech")
class CepstralCoefficients(keras.layers.Layer):
    """Log-mel features `[..., bands]` to their first `coefficients` MFCCs (a DCT-II over bands).

    Dropping the higher coefficients smooths the spectrum over frequency: the vocal-tract shape
    (what was said) stays, the pitch harmonics (who said it) go.
    """

    def __init__(self, coefficients=20, **kwargs):
        super().__init__(**kwargs)
        self.coefficients = coefficients

    def call(self, log_mel):
        return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., : self.coefficients]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.coefficients)

    def get_config(self):
        config = super().get_config()
        config["coefficients"] = self.coefficients
        return config


@keras.saving.register_keras_serializable(package="speech")
class UtteranceNormalization(keras.layers.Layer):
    """Normalize each feature of a clip `[batch, time, features]` over its own time steps.

    `mode="mean"` subtracts each band's mean over the clip (cepstral mean normalization: a fixed
    microphone or vocal-tract colouring is a constant offset in log-mel); `"mean_var"` also
    divides by the band's standard deviation; `"none"` passes the input through.
    """

    def __init__(self, mode="mean", epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("none", "mean", "mean_var"):
            raise ValueError(f"mode must be 'none', 'mean' or 'mean_var', got {mode!r}")
        self.mode = mode
        self.epsilon = epsilon

    def call(self, features):
        if self.mode == "none":
            return features
        centred = features - ops.mean(features, axis=1, keepdims=True)
        if self.mode == "mean":
            return centred
        return centred / ops.sqrt(
            ops.mean(ops.square(centred), axis=1, keepdims=True) + self.epsilon
        )

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="speech")
class SpecAugment(keras.layers.Layer):
    """SpecAugment masking (Park et al. 2019) of features `[batch, time, features]`, training only.

    Each clip gets `freq_masks` bands of up to `freq_mask_width` features and `time_masks` spans
    of up to `time_mask_width` steps set to zero (the mean of normalized features).
    """

    def __init__(
        self,
        freq_masks=2,
        freq_mask_width=5,
        time_masks=2,
        time_mask_width=10,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.freq_masks = freq_masks
        self.freq_mask_width = freq_mask_width
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _masks(self, batch, size, count, width):
        """Bool `[batch, size]`, True inside any of `count` random spans of up to `width`."""
        keep = ops.zeros((batch, size), dtype="bool")
        positions = ops.arange(size)[None, :]
        for _ in range(count):
            span = ops.floor(
                keras.random.uniform((batch, 1), 0, width + 1, seed=self.seed_generator)
            )
            start = ops.floor(
                keras.random.uniform((batch, 1), 0, 1, seed=self.seed_generator)
                * ops.maximum(ops.cast(size, "float32") - span, 1.0)
            )
            span, start = ops.cast(span, "int32"), ops.cast(start, "int32")
            keep = keep | ((positions >= start) & (positions < start + span))
        return keep

    def call(self, features, training=False):
        if not training:
            return features
        batch, steps, bands = ops.shape(features)[0], ops.shape(features)[1], ops.shape(features)[2]
        masked_bands = self._masks(batch, bands, self.freq_masks, self.freq_mask_width)
        masked_steps = self._masks(batch, steps, self.time_masks, self.time_mask_width)
        masked = masked_bands[:, None, :] | masked_steps[:, :, None]
        return ops.where(masked, ops.zeros_like(features), features)

    def get_config(self):
        config = super().get_config()
        config.update(
            freq_masks=self.freq_masks,
            freq_mask_width=self.freq_mask_width,
            time_masks=self.time_masks,
            time_mask_width=self.time_mask_width,
            seed=self.seed,
        )
        return config
