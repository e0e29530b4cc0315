"""The serving model: waveforms (`serving_default`) or WAV bytes (`audio_wav`) in, labels out.

`serving_default` takes `audio` float32 `[batch, samples]`, mono in [-1, 1] at the run's sample
rate, any number of samples (clips are centred on their speech and padded or cropped inside;
zero-padding a clip to batch it changes nothing).
`audio_wav` takes `wav_bytes` string `[batch]`: whole WAV files in any PCM or float format,
sample rate and channel count; they are decoded, mixed to mono and resampled inside.
Both return `label`, `probabilities` and `error`: a waveform holding NaN or inf, or bytes that
are no WAV file, get the label `""`, zero probabilities and the reason in `error`, and the
rest of the batch is answered (`shared.served`).
"""

from pathlib import Path
from typing import Callable
from typing import Sequence

import numpy as np
import tensorflow as tf

from apps.speech import audio as audio_ops
from apps.speech.config import SpeechConfig
from apps.speech.wav import encode_wav
from shared.export import Endpoint
from shared.pipeline import Pipeline
from shared.served import finite_rows
from shared.served import readable
from shared.served import with_errors
from shared.served import zero_rows

NOT_FINITE = "audio must hold finite samples (no NaN or inf)"
NOT_A_WAV = "not a readable WAV file"


def sample_inputs(config: SpeechConfig) -> dict[str, np.ndarray]:
    """Inputs that exercise the odd cases: silence, short and long clips, other formats."""
    rate = config.sample_rate
    time = np.arange(2 * config.clip_samples) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
    short = np.zeros_like(tone)
    short[: rate // 10] = tone[: rate // 10]
    audio = np.stack([tone, short, np.zeros_like(tone)])
    wavs = np.array(
        [
            encode_wav(tone, rate),
            encode_wav(np.stack([tone, -tone], 1)[: rate // 5], 44100, bits=24),
            encode_wav(short[: rate // 2], 8000, bits=32, floating=True),
            encode_wav(np.zeros(0), rate),
        ],
        dtype=object,
    )
    return {"audio": audio, "wav_bytes": wavs}


def make_endpoints(model: Pipeline, config: SpeechConfig) -> dict[str, Endpoint]:
    """`serving_default` is the classifier's own `serve` (clips centred inside); `audio_wav`
    decodes and fits WAV files to the clip length, then runs the network."""
    class_names = tf.constant(list(config.class_names))
    sample = sample_inputs(config)

    def labelled(probabilities):
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    def classify(clips):
        return labelled(model({"audio": clips}, training=False))

    def serve_audio(audio):
        finite = finite_rows(audio)
        return with_errors(labelled(model.serve(zero_rows(audio, finite))), finite, NOT_FINITE)

    def serve_wav(wav_bytes):
        decoded, clips = readable(
            lambda contents: audio_ops.load_clip(contents, config.sample_rate, config.clip_samples),
            wav_bytes,
            tf.TensorSpec([config.clip_samples], tf.float32),
        )
        return with_errors(classify(clips), decoded, NOT_A_WAV)

    return {
        "serving_default": Endpoint(
            serve_audio,
            [tf.TensorSpec([None, None], tf.float32, name="audio")],
            {"audio": sample["audio"]},
        ),
        "audio_wav": Endpoint(
            serve_wav,
            [tf.TensorSpec([None], tf.string, name="wav_bytes")],
            {"wav_bytes": sample["wav_bytes"]},
        ),
    }


_load_audio = tf.function(
    audio_ops.load_audio,
    input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32)],
)


def export_agreement(
    serve_audio: Callable[..., dict],
    serve_wav: Callable[..., dict],
    files: Sequence[tuple[Path, int]],
    sample_rate: int,
    batch_size: int = 32,
) -> dict:
    """Send the same files to both endpoints: as float waveforms and as WAV bytes.

    The waveforms are the files decoded and resampled to the run's rate, not centred: the
    export does that. They are zero-padded to batch them, which must not change any answer.
    """
    same, gap, accuracy = 0, 0.0, {"audio": 0, "wav_bytes": 0}
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        contents = [path.read_bytes() for path, _ in chunk]
        waves = [_load_audio(tf.constant(c), sample_rate).numpy() for c in contents]
        padded = np.zeros((len(waves), max(len(w) for w in waves)), np.float32)
        for row, wave in enumerate(waves):
            padded[row, : len(wave)] = wave
        from_audio = serve_audio(audio=tf.constant(padded))["probabilities"].numpy()
        from_wav = serve_wav(wav_bytes=tf.constant(contents))["probabilities"].numpy()
        labels_a, labels_w = from_audio.argmax(-1), from_wav.argmax(-1)
        truth = np.array([label for _, label in chunk])
        same += int(np.sum(labels_a == labels_w))
        accuracy["audio"] += int(np.sum(labels_a == truth))
        accuracy["wav_bytes"] += int(np.sum(labels_w == truth))
        gap = max(gap, float(np.abs(from_audio - from_wav).max()))
    return {
        "clips": len(files),
        "same_label": same / len(files),
        "max_probability_difference": gap,
        "accuracy_audio": accuracy["audio"] / len(files),
        "accuracy_wav_bytes": accuracy["wav_bytes"] / len(files),
    }
