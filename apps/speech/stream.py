"""Listen to a recording with a run's streaming LiteRT model and print the keywords heard.

python -m apps.speech.stream --run_dir runs/speech recording.wav

The model (`export_lite` of a `--streaming` run) takes the recording one hop at a time, as a
device would; a keyword is reported when its probability, averaged over `--smoothing`
seconds, reaches `--threshold`, and nothing more for `--refractory` seconds
(`apps.speech.detection`). Each line: the time the keyword was heard (end of its hop,
seconds from the start), the keyword and its smoothed probability.
"""

import time
from pathlib import Path
from typing import Optional
from typing import Sequence

from apps.speech import detection
from shared.cli import command
from shared.cli import run_parser
from shared.commands import native_logs_hidden
from shared.commands import start_tensorflow
from shared.errors import UserError
from shared.run_dir import RunDir

MODELS = ("streaming", "streaming_dynamic", "streaming_int8")
# The detector's settings (`apps.speech.detection`): flag, default, help.
DETECTOR_FLAGS = (
    ("threshold", detection.THRESHOLD, "Smoothed probability to report"),
    ("smoothing", detection.SMOOTHING, "Seconds of posteriors averaged"),
    ("refractory", detection.REFRACTORY, "Seconds without a report after a keyword"),
    (
        "gate_db",
        detection.GATE_DB,
        "Report only while the last clip's loudest hop is this many dB above the noise floor "
        "of the --floor_seconds before it (0: no gate)",
    ),
    ("floor_seconds", detection.FLOOR_SECONDS, "Window of the noise-floor estimate"),
)


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = run_parser(__doc__.split("\n\n")[0], "python -m apps.speech.stream")
    parser.add_argument("recording", help="WAV file (any rate or format)")
    parser.add_argument("--model", default="streaming", choices=MODELS, help="Which LiteRT form")
    for name, default, text in DETECTOR_FLAGS:
        parser.add_argument(f"--{name}", type=float, default=default, help=text)
    parser.add_argument(
        "--ignore",
        default=None,
        help="Comma-separated classes never reported (default: those starting with '_')",
    )
    args = parser.parse_args(argv)
    if not 0.0 < args.threshold <= 1.0:
        parser.error("--threshold must be in (0, 1]")
    if min(args.smoothing, args.refractory, args.gate_db) < 0 or args.floor_seconds <= 0:
        parser.error(
            "--smoothing, --refractory and --gate_db must be at least 0, --floor_seconds above 0"
        )
    lite_dir = RunDir(Path(args.run_dir)).lite
    model_path = lite_dir / f"{args.model}.tflite"
    if not (lite_dir / "lite.json").exists():
        raise UserError(
            f"{args.run_dir} has no LiteRT models; run python -m apps.speech.export_lite "
            f"--run_dir {args.run_dir} first"
        )
    if not model_path.exists():
        raise UserError(
            f"{lite_dir} holds no {model_path.name}: only a run trained with --streaming "
            "has a streaming model"
        )
    recording = Path(args.recording)
    if not recording.is_file():
        raise UserError(f"{recording}: no such file")
    start_tensorflow()
    listen(model_path, recording, args)
    return 0


def listen(model_path: Path, recording: Path, args) -> None:
    """Run the streaming model over the recording and print what it heard."""
    import tensorflow as tf

    from apps.speech import audio as audio_ops
    from apps.speech.detection import detect_in_recording
    from apps.speech.lite import LiteModel
    from apps.speech.streaming import stream_clip
    from apps.speech.wav import wav_error
    from shared import io

    info = io.read_json(model_path.parent / "lite.json")
    try:
        audio = audio_ops.load_audio(tf.constant(recording.read_bytes()), info["sample_rate"])
    except tf.errors.InvalidArgumentError as error:
        raise UserError(f"{recording}: {wav_error(error)}") from None
    audio = audio.numpy()
    with native_logs_hidden():  # LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate"
        model = LiteModel(model_path)
        started = time.perf_counter()
        posteriors = stream_clip(model, model.initial_state(), audio, info["hop_samples"])
        seconds = time.perf_counter() - started
    class_names = info["class_names"]
    ignore = (
        [name for name in class_names if name.startswith("_")]
        if args.ignore is None
        else [name.strip() for name in args.ignore.split(",") if name.strip()]
    )
    unknown = sorted(set(ignore) - set(class_names))
    if unknown:
        raise UserError(f"--ignore: no class {', '.join(unknown)} in {class_names}")
    found = detect_in_recording(
        posteriors,
        audio,
        info,
        gate_db=args.gate_db,
        floor_seconds=args.floor_seconds,
        threshold=args.threshold,
        smoothing=args.smoothing,
        refractory=args.refractory,
        ignore=ignore,
    )
    for heard in found:
        print(f"{heard.time:9.2f} s  {heard.label}  {heard.score:.2f}")
    duration = len(audio) / info["sample_rate"]
    print(
        f"{len(found)} keyword(s) in {duration:.1f} s of audio; {len(posteriors)} hops in "
        f"{seconds:.2f} s (real-time factor {seconds / max(duration, 1e-9):.4f})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
