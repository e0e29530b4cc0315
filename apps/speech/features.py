"""Layers that put the audio front end inside the model: log-mel, MFCCs, per-clip norm."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

FLOOR = 1e-6  # added to mel energies before the log (fixed-floor mode)
SILENCE_LOG = math.log(FLOOR) + 1e-3  # log-mel values at or below this are digital silence


@keras.saving.register_keras_serializable(package="speech")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveforms `[batch, samples]` to log-mel features `[batch, frames, mel_bins]`.

    Unlike `keras.layers.MelSpectrogram`, whose dB floor is taken from the loudest value of the
    whole batch, every clip here is floored on its own: values more than `dynamic_range_db`
    below the clip's loudest mel value are raised to that floor. So a clip gets the same
    features alone or in any batch, and digital silence (zero padding) looks like quiet
    background, not like an abyss far below anything a microphone records
    (`dynamic_range_db=0`: a fixed floor, `log(mel + 1e-6)`).

    Args:
        sample_rate: int. Sample rate of the input.
        frame_length: int. STFT window in samples (Hann).
        frame_step: int. Hop between frames in samples.
        mel_bins: int. Number of mel bands.
        min_frequency, max_frequency: float. Band edges in Hz (`max_frequency=0`: Nyquist).
        pre_emphasis: float. First-order high-pass `x[n] - a * x[n-1]` before the STFT: it
            removes a DC offset (and the clicks it makes where a clip meets its zero padding)
            and lifts the weak high formants; 0 disables it.
        dynamic_range_db: float. See above.
        pad_start: bool. Prepend `frame_length - frame_step` zeros, so that every frame ends
            where a hop of audio does: the first frame holds the first `frame_step` samples,
            and a stream cut into hops of whole frames gives the same frames
            (`apps.speech.streaming`).
    """

    def __init__(
        self,
        sample_rate,
        frame_length,
        frame_step,
        mel_bins,
        min_frequency=20.0,
        max_frequency=0.0,
        dynamic_range_db=0.0,
        pre_emphasis=0.0,
        pad_start=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pad_start = pad_start
        # Set while converting to LiteRT (`apps.speech.lite.lite_tracing`), not saved: the
        # mel filter bank as an elementwise product and a sum, whose weights dynamic-range
        # quantization does not touch (as a matrix product, its int8 input would lose the
        # quiet bands of the power spectrum).
        self.elementwise_mel = False
        self.sample_rate = sample_rate
        self.frame_length = frame_length
        self.frame_step = frame_step
        self.mel_bins = mel_bins
        self.min_frequency = min_frequency
        self.max_frequency = max_frequency
        self.dynamic_range_db = dynamic_range_db
        self.pre_emphasis = pre_emphasis
        self.fft_length = int(2 ** (frame_length - 1).bit_length())

    def call(self, audio):
        audio = tf.cast(audio, tf.float32)
        if self.pad_start:
            audio = tf.pad(audio, [[0, 0], [self.frame_length - self.frame_step, 0]])
        return self.log_mel(self.emphasised(audio))

    def emphasised(self, audio, previous=None):
        """The pre-emphasis of `audio` `[batch, samples]`; `previous` `[batch, 1]` is the sample
        before it (zero at the start of a clip)."""
        if not self.pre_emphasis:
            return audio
        if previous is None:
            previous = tf.zeros_like(audio[:, :1])
        return audio - self.pre_emphasis * tf.concat([previous, audio[:, :-1]], axis=1)

    def log_mel(self, audio):
        """Log-mel frames of emphasised audio `[batch, samples]` (no padding)."""
        stft = tf.signal.stft(
            audio,
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
        if self.elementwise_mel:  # a product LiteRT's weight quantization leaves in float
            mel = tf.reduce_sum(power[..., None] * weights, axis=-2)
        else:
            mel = tf.tensordot(power, weights, 1)
        if self.dynamic_range_db:
            loudest = tf.reduce_max(mel, axis=[-2, -1], keepdims=True)
            floor = tf.maximum(loudest * 10.0 ** (-self.dynamic_range_db / 10.0), 1e-20)
            return tf.math.log(tf.maximum(mel, floor))  # a gain change is a pure offset
        return tf.math.log(mel + FLOOR)

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        if samples is not None and self.pad_start:
            samples += self.frame_length - self.frame_step
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
            dynamic_range_db=self.dynamic_range_db,
            pre_emphasis=self.pre_emphasis,
            pad_start=self.pad_start,
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
        # `tf.signal.mfccs_from_log_mel_spectrograms` as one matrix product (its FFT-based DCT
        # has no LiteRT kernel): a DCT-II scaled by 1 / sqrt(2 * bands).
        bands = log_mel.shape[-1]
        n, k = np.arange(bands)[:, None], np.arange(self.coefficients)[None, :]
        dct = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * bands)) / np.sqrt(2.0 * bands)
        return tf.tensordot(log_mel, tf.constant(dct, log_mel.dtype), 1)

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

    With `silence_level`, digitally silent frames (such as the zero padding of a short clip)
    are left out of the statistics and set to 0, the clip's mean: the statistics then describe
    the speech, not how much padding the clip happened to need. A frame is silent when every
    feature is at or below `silence_level` (log-mel bands at `LogMelSpectrogram`'s floor
    `SILENCE_LOG`) or, with `silence_feature=i`, when feature `i` is (MFCCs: the 0th
    coefficient, proportional to the frame's mean log-mel, see `mfcc_silence_level`).

    With `causal_frames=n`, each frame is normalized with the statistics of the frames up to
    and including it, older frames weighing `exp(-age / n)`: no frame depends on what follows,
    so a stream can be normalized as it arrives (`stream`), with the same result.
    """

    def __init__(
        self,
        mode="mean",
        epsilon=1e-3,
        silence_level=None,
        silence_feature=None,
        causal_frames=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.causal_frames = causal_frames
        if mode not in ("none", "mean", "mean_var"):
            raise ValueError(f"mode must be 'none', 'mean' or 'mean_var', got {mode!r}")
        self.mode = mode
        self.epsilon = epsilon
        self.silence_level = silence_level
        self.silence_feature = silence_feature

    def call(self, features):
        if self.mode == "none":
            return features
        weights = self._sound(features)  # [batch, time, 1]
        if self.causal_frames:
            steps = ops.arange(ops.shape(features)[1])
            age = ops.cast(steps[:, None] - steps[None, :], features.dtype)
            decay = ops.where(age >= 0, ops.exp(-age / self.causal_frames), 0.0)
            sums = [ops.einsum("ts,bsf->btf", decay, v) for v in self._moments(features, weights)]
            return self._normalize(features, weights, *sums)
        count = ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1.0)
        mean = ops.sum(features * weights, axis=1, keepdims=True) / count
        centred = (features - mean) * weights
        if self.mode == "mean_var":
            variance = ops.sum(ops.square(centred), axis=1, keepdims=True) / count
            centred = centred / ops.sqrt(variance + self.epsilon)
        return centred

    def stream(self, features, state):
        """`causal_frames` normalization of the next frames `[batch, k, features]` of a stream.

        `state` is `(count [batch, 1], sum [batch, features], sum of squares [batch,
        features])` of the frames so far, already decayed (`initial_state`); returns the
        normalized frames and the new state.
        """
        if self.mode == "none":
            return features, state
        decay = math.exp(-1.0 / self.causal_frames)
        weights = self._sound(features)
        moments = self._moments(features, weights)
        outputs = []
        for step in range(features.shape[1]):
            state = tuple(decay * old + new[:, step] for old, new in zip(state, moments))
            outputs.append(self._normalize(features[:, step], weights[:, step], *state))
        return ops.stack(outputs, axis=1), state

    def initial_state(self, batch: int = 1, features: int = 1) -> tuple:
        """The `stream` state before the first frame."""
        return (
            ops.zeros((batch, 1)),
            ops.zeros((batch, features)),
            ops.zeros((batch, features)),
        )

    def _sound(self, features):
        """1.0 for frames holding sound, 0.0 for digitally silent ones: `[..., 1]`."""
        if self.silence_level is None:
            return ops.ones_like(features[..., :1])
        if self.silence_feature is None:
            level = ops.max(features, axis=-1, keepdims=True)
        else:
            index = self.silence_feature
            level = features[..., index : index + 1]
        return ops.cast(level > self.silence_level, features.dtype)

    @staticmethod
    def _moments(features, weights):
        return weights, features * weights, ops.square(features) * weights

    def _normalize(self, features, weights, count, total, squares):
        """Frames normalized by running sums (causal mode)."""
        count = ops.maximum(count, 1.0)
        mean = total / count
        centred = (features - mean) * weights
        if self.mode == "mean_var":
            variance = ops.maximum(squares / count - ops.square(mean), 0.0)
            centred = centred / ops.sqrt(variance + self.epsilon)
        return centred

    def get_config(self):
        config = super().get_config()
        config.update(
            mode=self.mode,
            epsilon=self.epsilon,
            silence_level=self.silence_level,
            silence_feature=self.silence_feature,
            causal_frames=self.causal_frames,
        )
        return config


def mfcc_silence_level(mel_bins: int) -> float:
    """The 0th MFCC of a frame whose log-mel bands all sit at `SILENCE_LOG` (digital silence):
    a frame at or below it is silent, since no band goes below the floor."""
    silent = tf.fill([1, 1, mel_bins], SILENCE_LOG)
    return float(tf.signal.mfccs_from_log_mel_spectrograms(silent)[0, 0, 0])
