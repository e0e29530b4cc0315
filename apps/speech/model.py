"""The keyword classifier: fixed-length waveforms in, class probabilities out."""

from typing import Optional

import keras
import numpy as np

from apps.speech import audio as audio_ops
from apps.speech.config import SpeechConfig
from apps.speech.feature_augment import RandomStretch
from apps.speech.feature_augment import SpecAugment
from apps.speech.features import SILENCE_LOG
from apps.speech.features import CepstralCoefficients
from apps.speech.features import LogMelSpectrogram
from apps.speech.features import UtteranceNormalization
from apps.speech.features import mfcc_silence_level
from shared.distribute import batch_normalization
from shared.layers import AttentionPooling
from shared.layers import RecurrentStack
from shared.pipeline import Pipeline
from shared.precision import FLOAT32
from shared.precision import dtype_policy
from shared.precision import network_precision
from shared.training import make_optimizer


def build_model(
    config: SpeechConfig,
    *,
    num_classes: int,
    feature_mean: Optional[np.ndarray] = None,
    feature_variance: Optional[np.ndarray] = None,
) -> keras.Model:
    """Waveform -> log-mel -> normalization -> conv front end -> recurrent block -> attention.

    The "attention RNN" of de Andrade et al. (2018): convolutions over time and frequency, a
    bidirectional recurrent block over time, and a learned attention that pools the frames into
    one vector. `feature_mean` and `feature_variance` (per band, from `feature_statistics`)
    normalize the features (without them the normalization layer must be adapted).
    """
    audio = keras.Input(shape=(config.clip_samples,), name="audio")
    # The input side stays float32 under --mixed_precision: spectra and their statistics
    # need its precision; the network after it may compute in (b)float16.
    with dtype_policy(FLOAT32):
        spectral, utterance_norm = feature_layers(config)
        x = audio
        for layer in spectral:
            x = layer(x)
        bands = config.cepstral_coefficients or config.mel_bins
        # Each random layer gets its own seed: equal seeds would draw equal numbers, so the tempo
        # stretch, the band warp and the first SpecAugment mask would move together.
        if config.augment and config.time_stretch:
            x = RandomStretch(
                1, config.time_stretch, "centre", seed=config.seed + 1, name="time_stretch"
            )(x)
        if config.augment and config.frequency_warp:
            x = RandomStretch(
                2, config.frequency_warp, "start", seed=config.seed + 2, name="frequency_warp"
            )(x)
        x = utterance_norm(x)
        x = keras.layers.Normalization(
            axis=-1, mean=feature_mean, variance=feature_variance, name="feature_norm"
        )(x)
        if config.augment:
            x = SpecAugment(
                config.freq_masks,
                config.freq_mask_bins,
                config.time_masks,
                config.time_mask_frames,
                seed=config.seed,
                name="spec_augment",
            )(x)
    x = keras.layers.Reshape((-1, bands, 1), name="as_image")(x)
    for block in (1, 2):  # each halves the frequency axis; the second may pool frames
        padding = "same"
        if config.streaming:  # causal in time: a frame sees itself and the two before it
            x = keras.layers.ZeroPadding2D(((2, 0), (1, 1)), name=f"conv{block}_pad")(x)
            padding = "valid"
        x = keras.layers.Conv2D(
            config.conv_filters, 3, padding=padding, use_bias=False, name=f"conv{block}"
        )(x)
        x = batch_normalization(name=f"conv{block}_norm")(x)
        x = keras.layers.Activation("relu", name=f"conv{block}_relu")(x)
        time_pool = config.frame_pooling if block == 2 else 1
        x = keras.layers.MaxPooling2D((time_pool, 2), name=f"conv{block}_pool")(x)
    x = keras.layers.Reshape((-1, (bands // 4) * config.conv_filters), name="frames")(x)
    x = RecurrentStack(**config.recurrent_kwargs(), return_sequences=True, name="recurrent")(x)
    x, _ = AttentionPooling(config.attention_units, name="attention")(x)
    x = keras.layers.Dense(config.head_units, activation="relu", name="head")(x)
    x = keras.layers.Dropout(config.head_dropout, name="head_dropout")(x)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model({"audio": audio}, probabilities, name="speech")


def feature_layers(config: SpeechConfig) -> tuple[list[keras.layers.Layer], keras.layers.Layer]:
    """The weightless feature layers: `(log-mel [and MFCC] layers, per-clip normalization)`.

    Training augments the features between the two; the feature statistics are computed
    without augmentation.
    """
    spectral = [
        LogMelSpectrogram(
            config.sample_rate,
            config.frame_length,
            config.frame_step,
            config.mel_bins,
            max_frequency=config.max_frequency,
            dynamic_range_db=config.dynamic_range_db,
            pre_emphasis=config.pre_emphasis,
            pad_start=config.streaming,
            name="log_mel",
        )
    ]
    if config.cepstral_coefficients:
        spectral.append(CepstralCoefficients(config.cepstral_coefficients, name="cepstra"))
    # Digital silence sits at a known level only with the fixed floor (not --dynamic_range_db).
    level = feature = None
    if config.ignore_silence and not config.dynamic_range_db:
        level, feature = SILENCE_LOG, None
        if config.cepstral_coefficients:
            level, feature = mfcc_silence_level(config.mel_bins), 0
    utterance_norm = UtteranceNormalization(
        config.utterance_normalization,
        silence_level=level,
        silence_feature=feature,
        causal_frames=config.normalization_frames if config.streaming else 0,
        name="utterance_norm",
    )
    return spectral, utterance_norm


def feature_statistics(config: SpeechConfig, clips) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each feature band over training clips (a dataset of batches).

    Only the weightless feature layers are built, so no random weight initialization is
    drawn here: the model built afterwards starts from the same weights for a given seed.
    """
    spectral, utterance_norm = feature_layers(config)
    features = keras.Sequential([*spectral, utterance_norm])
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(clips.map(features))
    return norm.adapt_mean.numpy(), norm.adapt_variance.numpy()


def explain_model(model: keras.Model) -> keras.Model:
    """The same network returning (log-mel features, attention weights over frames) for plots."""
    attention = model.get_layer("attention")
    return keras.Model(model.inputs, [model.get_layer("log_mel").output, attention.output[1]])


@keras.saving.register_keras_serializable(package="speech")
class ClipInput(keras.layers.Layer):
    """Waveforms `[batch, any samples]` -> `{"audio": [batch, clip_samples]}`, each clip
    centred on its speech (cropped or padded, as the export does).

    It also keeps the feature statistics of the training clips (`feature_statistics`) that
    the network's normalization was built with: they are what the speech model fits on the
    training split, and a resumed run rebuilds the network from them.
    """

    def __init__(self, clip_samples: int, feature_mean, feature_variance, **kwargs):
        super().__init__(**kwargs)
        self.clip_samples = int(clip_samples)
        self.feature_mean = [float(v) for v in np.asarray(feature_mean).ravel()]
        self.feature_variance = [float(v) for v in np.asarray(feature_variance).ravel()]

    def call(self, audio):
        return {"audio": audio_ops.centre(audio, self.clip_samples)}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "clip_samples": self.clip_samples,
            "feature_mean": self.feature_mean,
            "feature_variance": self.feature_variance,
        }


def build_classifier(
    config: SpeechConfig, clip_input: ClipInput, *, steps_per_epoch: int | None = None
) -> Pipeline:
    """The compiled classifier owning its input side: `predict` takes waveforms."""
    with network_precision(config):
        network = build_model(
            config,
            num_classes=len(config.class_names),
            feature_mean=np.asarray(clip_input.feature_mean, np.float32),
            feature_variance=np.asarray(clip_input.feature_variance, np.float32),
        )
    pipeline = Pipeline(network, clip_input, name="speech_classifier")
    return compile_model(pipeline, config, steps_per_epoch=steps_per_epoch)


def compile_model(
    model: keras.Model, config: SpeechConfig, *, steps_per_epoch: int | None = None
) -> keras.Model:
    """Adam (cosine-decayed over `--epochs` when asked and `steps_per_epoch` is known)."""
    decay_steps = (
        config.epochs * steps_per_epoch if config.cosine_decay and steps_per_epoch else None
    )
    model.compile(
        optimizer=make_optimizer(config, decay_steps=decay_steps),
        loss="sparse_categorical_crossentropy",
        metrics=[
            "accuracy",
            keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2_accuracy"),
        ],
    )
    return model
