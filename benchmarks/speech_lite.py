"""Benchmark: the LiteRT models of a speech run (`apps.speech.export_lite`) on this CPU.

In one run, for a run directory holding `export/lite/`:
  1. per-hop latency and real-time factor of each streaming model (float, dynamic, int8),
     fed test clips hop by hop;
  2. per-clip latency of each clip model against the SavedModel's `serving_default` at batch 1
     (the ratio is LiteRT's speed-up);
  3. keyword detection: test clips composed into one recording with noisy pauses between them
     (`apps.speech.detection.compose_recording`), run through each streaming model and
     `detect_in_recording` at the `stream` command's defaults (sound gate included);
     precision and recall against the known positions.

    python benchmarks/speech_lite.py --run_dir RUN [--data_dir DIR] [--clips 100] [--seed 0]

The test clips are the WAV files of `DIR/test/<label>/` (default `$RNN_SUITE_DATA/speech`),
resampled to the run's rate; one LiteRT thread, as on a small device.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from dev_data import data_dir

from apps.speech import audio as audio_ops
from apps.speech.detection import compose_recording
from apps.speech.detection import detect_in_recording
from apps.speech.detection import score
from apps.speech.lite import LiteModel
from apps.speech.streaming import stream_clip
from shared import io
from shared.run_dir import RunDir


def test_clips(folder: Path, rate: int, count: int, seed: int) -> list[tuple[np.ndarray, str]]:
    """`count` test WAV files (a seeded sample), decoded at `rate`, with their labels."""
    files = sorted(folder.glob("test/*/*.wav"))
    if not files:
        sys.exit(f"no test WAV files under {folder}/test/<label>/")
    picked = np.random.default_rng(seed).permutation(len(files))[:count]
    return [
        (
            audio_ops.load_audio(tf.constant(files[i].read_bytes()), rate).numpy(),
            files[i].parent.name,
        )
        for i in sorted(picked)
    ]


def per_call_ms(call, inputs: list, repeats: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        for item in inputs:
            call(item)
    return 1000 * (time.perf_counter() - started) / (repeats * len(inputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run_dir", required=True)
    parser.add_argument("--data_dir", default=str(data_dir("speech")))
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run = RunDir(Path(args.run_dir))
    lite_dir = run.lite
    info = io.read_json(lite_dir / "lite.json")
    rate, length, hop = info["sample_rate"], info["clip_samples"], info["hop_samples"]
    clips = test_clips(Path(args.data_dir), rate, args.clips, args.seed)
    centred = [audio_ops.centre_one(tf.constant(c), length).numpy()[None] for c, _ in clips]
    print(f"{len(clips)} test clips at {rate} Hz; models of {lite_dir}\n")

    print("1. streaming models, one hop at a time")
    if hop is None:
        print("   (not a --streaming run: no streaming model)")
    else:
        for name in ("streaming", "streaming_dynamic", "streaming_int8"):
            model = LiteModel(lite_dir / f"{name}.tflite")
            state = model.initial_state()
            hops = [
                c[0, i : i + hop][None] for c in centred for i in range(0, length - hop + 1, hop)
            ]
            model(audio=hops[0], **state)  # warm up
            ms = per_call_ms(lambda h: model(audio=h, **state), hops)
            print(
                f"   {name:<20} {ms:7.3f} ms per {1000 * hop / rate:.0f} ms hop  "
                f"real-time factor {ms / (1000 * hop / rate):.4f}  ({model.size / 1024:.0f} KB)"
            )

    print("\n2. clip models, one clip at a time, against the SavedModel at batch 1")
    serve = tf.saved_model.load(str(run.latest_export())).signatures["serving_default"]
    tensors = [tf.constant(c) for c in centred]
    serve(audio=tensors[0])
    saved_ms = per_call_ms(lambda c: serve(audio=c), tensors)
    print(f"   {'SavedModel':<20} {saved_ms:7.3f} ms per clip")
    for name in ("clip", "clip_dynamic", "clip_int8"):
        model = LiteModel(lite_dir / f"{name}.tflite")
        model(audio=centred[0])
        ms = per_call_ms(lambda c: model(audio=c), centred)
        print(
            f"   {name:<20} {ms:7.3f} ms per clip  {saved_ms / ms:5.2f}x the SavedModel  "
            f"({model.size / 1024:.0f} KB)"
        )

    if hop is None:
        return
    print("\n3. keyword detection on a composed recording (stream's defaults)")
    audio, events = compose_recording(
        [c for c, _ in clips], [label for _, label in clips], rate, seed=args.seed
    )
    print(f"   {len(events)} keywords in {len(audio) / rate:.0f} s, noisy pauses of 0.5-1.5 s")
    for name in ("streaming", "streaming_dynamic", "streaming_int8"):
        model = LiteModel(lite_dir / f"{name}.tflite")
        posteriors = stream_clip(model, model.initial_state(), audio, hop)
        found = detect_in_recording(posteriors, audio, info)
        result = score(found, events)
        print(
            f"   {name:<20} precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
            f"({result['right']} right of {result['detections']} detections)"
        )


if __name__ == "__main__":
    main()
