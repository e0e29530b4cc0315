"""The classifier one hop of audio at a time, its state passed in and out (external state).

A network trained with `--streaming` computes nothing from the future: the spectrogram's
frames end where hops of audio end (`LogMelSpectrogram(pad_start=True)`), the per-clip
normalization uses the frames heard so far, the convolutions are causal in time and the
recurrence runs forward only. So it can be run hop by hop with the same weights, each call
taking `hop_samples` of audio (one frame after the frame pooling) and returning the class
probabilities of the last `clip_seconds` heard:

- audio: the last `frame_length - frame_step + 1` samples (the frames overlap by
  `frame_length - frame_step`; one more for the pre-emphasis);
- normalization: the decayed count, sum and sum of squares of each feature;
- each convolution block: its last two input frames (a 3-frame causal kernel);
- each recurrent layer: its state (`h`, and `c` for an LSTM);
- attention pooling: the clip model pools over the whole clip and has no streaming form, so
  the streaming model pools over a buffer of the recurrent outputs of the last
  `clip_seconds` (one per hop) and a mask of which of them have been heard.

From a zero state, the probabilities after the hops of a clip are the clip model's on that
clip (centred, as `serving_default` centres it), tested in
`tests/apps/speech/test_streaming.py`. On a recording the recurrent state and the
normalization carry what came before; see the README for what that costs.
"""

import keras
import numpy as np
import tensorflow as tf

from apps.speech.config import SpeechConfig
from shared.errors import UserError


class StreamingClassifier(tf.Module):
    """`step(audio [1, hop_samples], **state) -> {"probabilities", **new state}` of a
    `--streaming` network (`apps.speech.model.build_model`)."""

    def __init__(self, network: keras.Model, config: SpeechConfig):
        super().__init__(name="streaming_classifier")
        if not config.streaming:
            raise UserError(
                "this run's network reads whole clips (bidirectional recurrence, centred "
                "convolutions): train it with --streaming for a streaming model"
            )
        self.network = network
        self.config = config
        self.log_mel = network.get_layer("log_mel")
        self.cepstra = network.get_layer("cepstra") if config.cepstral_coefficients else None
        self.utterance_norm = network.get_layer("utterance_norm")
        self.feature_norm = network.get_layer("feature_norm")
        self.recurrent = network.get_layer("recurrent")
        self.attention = network.get_layer("attention")
        self.context = self.log_mel.frame_length - self.log_mel.frame_step
        self.frames_per_hop = config.frame_pooling
        self.bands = config.cepstral_coefficients or config.mel_bins
        clip_frames = 1 + (config.clip_samples - config.frame_step) // config.frame_step
        self.memory_steps = clip_frames // config.frame_pooling

    @property
    def hop_samples(self) -> int:
        return self.config.hop_samples

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """Each state tensor's shape (batch 1), in a fixed order."""
        filters, bands = self.config.conv_filters, self.bands
        shapes = {
            "audio_tail": (1, self.context + 1),
            "norm_count": (1, 1),
            "norm_sum": (1, bands),
            "norm_squares": (1, bands),
            "conv1_frames": (1, 2, bands, 1),
            "conv2_frames": (1, 2, bands // 2, filters),
        }
        for index, layer in enumerate(self.recurrent.recurrent_layers):
            shapes[f"rnn{index}_h"] = (1, layer.cell.units)
            if isinstance(layer, keras.layers.LSTM):
                shapes[f"rnn{index}_c"] = (1, layer.cell.units)
        units = self.recurrent.recurrent_layers[-1].cell.units
        shapes["memory"] = (1, self.memory_steps, units)
        shapes["memory_mask"] = (1, self.memory_steps)
        return shapes

    def initial_state(self) -> dict[str, np.ndarray]:
        """The state before the first hop: silence heard, nothing remembered."""
        return {name: np.zeros(shape, np.float32) for name, shape in self.state_shapes().items()}

    def input_signature(self) -> list[tf.TensorSpec]:
        specs = [tf.TensorSpec((1, self.hop_samples), tf.float32, name="audio")]
        return specs + [
            tf.TensorSpec(shape, tf.float32, name=name)
            for name, shape in self.state_shapes().items()
        ]

    def step(self, audio: tf.Tensor, *state: tf.Tensor) -> dict[str, tf.Tensor]:
        """One hop: the probabilities of the last clip heard and the next state (in
        `state_shapes` order, as positional tensors after `audio`)."""
        state = dict(zip(self.state_shapes(), state))
        new = {}
        with tf.name_scope("log_mel"):
            tail = tf.concat([state["audio_tail"], audio], axis=1)
            new["audio_tail"] = tail[:, -(self.context + 1) :]
            emphasised = self.log_mel.emphasised(tail[:, 1:], previous=tail[:, :1])
            x = self.log_mel.log_mel(emphasised)  # [1, frames_per_hop, mel_bins]
        if self.cepstra is not None:
            x = self.cepstra(x)
        with tf.name_scope("utterance_norm"):
            norm_state = (state["norm_count"], state["norm_sum"], state["norm_squares"])
            x, norm_state = self.utterance_norm.stream(x, norm_state)
            new["norm_count"], new["norm_sum"], new["norm_squares"] = norm_state
        x = self.feature_norm(x)
        x = x[..., None]  # [1, frames, bands, 1]
        for block in (1, 2):
            frames = tf.concat([state[f"conv{block}_frames"], x], axis=1)
            new[f"conv{block}_frames"] = frames[:, -2:]
            x = tf.pad(frames, [[0, 0], [0, 0], [1, 1], [0, 0]])  # "same" across bands
            for part in ("", "_norm", "_relu", "_pool"):
                x = self.network.get_layer(f"conv{block}{part}")(x, training=False)
        x = tf.reshape(x, [1, -1])  # one pooled frame
        for index, layer in enumerate(self.recurrent.recurrent_layers):
            names = [f"rnn{index}_h"] + ([f"rnn{index}_c"] if f"rnn{index}_c" in state else [])
            x, states = layer.cell(x, [state[n] for n in names], training=False)
            states = states if isinstance(states, (list, tuple)) else [states]
            new.update(zip(names, states))
        memory = tf.concat([state["memory"][:, 1:], x[:, None, :]], axis=1)
        mask = tf.concat([state["memory_mask"][:, 1:], tf.ones([1, 1])], axis=1)
        new["memory"], new["memory_mask"] = memory, mask
        pooled, _ = self.attention(memory, mask=mask > 0)
        x = self.network.get_layer("head")(pooled)
        probabilities = self.network.get_layer("probabilities")(x)
        return {"probabilities": tf.cast(probabilities, tf.float32), **new}


def stream_clip(step, initial_state: dict, audio: np.ndarray, hop_samples: int) -> np.ndarray:
    """Feed `audio` `[samples]` hop by hop through `step(audio=..., **state)` from
    `initial_state`; return the probabilities after each hop `[hops, classes]` (a last
    partial hop is padded with zeros; no audio is one hop of silence)."""
    hops = max(1, -(-len(audio) // hop_samples))
    padded = np.zeros(hops * hop_samples, np.float32)
    padded[: len(audio)] = audio
    state, outputs = dict(initial_state), []
    for index in range(hops):
        hop = padded[index * hop_samples : (index + 1) * hop_samples][None, :]
        result = step(audio=hop, **state)
        outputs.append(np.asarray(result["probabilities"])[0])
        state = {name: np.asarray(result[name]) for name in state}
    return np.stack(outputs)
