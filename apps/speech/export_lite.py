"""Write LiteRT models of a finished speech run next to its SavedModel versions, and measure
them on the run's test clips.

python -m apps.speech.export_lite --run_dir runs/speech

Writes `RUN/export/lite/` (TF Serving ignores it: not a version number): `clip.tflite`
(waveform `[1, clip_samples]` -> probabilities), and with a `--streaming` run `streaming.tflite`
(one hop of audio and the state in, probabilities and the new state out), each also in
`_dynamic` (int8 weights) and `_int8` (int8 weights and activations, float where LiteRT has no
integer kernel) forms, and `lite.json`: the rate, hop, classes and each model's size and test
accuracy beside the SavedModel's.
"""

import dataclasses
import os
import shutil
import warnings
from pathlib import Path
from typing import Optional
from typing import Sequence

from shared.cli import command
from shared.cli import run_parser
from shared.commands import native_logs_hidden
from shared.commands import start_tensorflow


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = run_parser(__doc__.split("\n\n")[0], "python -m apps.speech.export_lite")
    parser.add_argument("--data_dir", help="Measure on other data (folders of WAV files)")
    parser.add_argument(
        "--representative_clips",
        type=int,
        default=100,
        help="Training clips whose activations set the int8 ranges",
    )
    args = parser.parse_args(argv)
    if args.representative_clips < 1:
        parser.error("--representative_clips must be at least 1")
    start_tensorflow()
    # The converter's int8 calibration runs the deprecated `tf.lite.Interpreter` and prints
    # its settings from C++: nothing a user can act on.
    warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
    with native_logs_hidden():
        report = export_lite(Path(args.run_dir), args.data_dir, args.representative_clips)
    print_report(report)
    return 0


def export_lite(run_dir: Path, data_dir: Optional[str], representative_clips: int) -> dict:
    """Convert the run's exported model, measure every form on the test clips, write them."""
    import keras
    import numpy as np
    import tensorflow as tf

    from apps.speech import lite
    from apps.speech.streaming import StreamingClassifier
    from apps.speech.streaming import stream_clip
    from shared import io
    from shared.commands import load_task
    from shared.errors import UserError
    from shared.progress import progress_bar
    from shared.run_dir import RunDir
    from shared.run_lock import run_lock
    from shared.runner import load_export

    task, run = load_task("speech"), RunDir(run_dir)
    with run_lock(run.root, "python -m apps.speech.export_lite"):
        export_dir, config = load_export(task, run, "export_lite")
        if config.mixed_precision:
            raise UserError(
                f"{run.root} was trained with --mixed_precision: LiteRT models are converted "
                "from float32 runs"
            )
        config = dataclasses.replace(config, strategy="default", devices=())
        if data_dir is not None:
            config = dataclasses.replace(config, data_dir=data_dir)
        splits, config = task.load_data(config)
        model = keras.saving.load_model(run.best_model)
        streaming = StreamingClassifier(model.network, config) if config.streaming else None
        training = [clip.numpy() for clip, _ in splits.clips("train", sample=representative_clips)]

        def clip_inputs():
            return ({"audio": clip[None]} for clip in training)

        def hop_inputs():  # the states a stream of training clips passes through
            step = tf.function(streaming.step, input_signature=streaming.input_signature())
            for clip in training:
                state = streaming.initial_state()
                for start in range(0, len(clip) - streaming.hop_samples + 1, streaming.hop_samples):
                    audio = clip[None, start : start + streaming.hop_samples]
                    yield {"audio": audio, **state}
                    result = step(tf.constant(audio), *map(tf.constant, state.values()))
                    state = {name: result[name].numpy() for name in state}

        models = {}
        clip_fn, clip_signature = lite.clip_function(model, config)
        with lite.lite_tracing(model):
            for quantization in lite.QUANTIZATIONS:
                suffix = "" if quantization == "float" else f"_{quantization}"
                print(f"Converting the clip model ({quantization})")
                models[f"clip{suffix}"] = lite.convert(
                    clip_fn,
                    clip_signature,
                    quantization,
                    clip_inputs,
                    track=model,
                    float_nodes=lite.float_nodes(models["clip"]) if quantization == "int8" else (),
                )
                if streaming is None:
                    continue
                print(f"Converting the streaming model ({quantization})")
                models[f"streaming{suffix}"] = lite.convert(
                    streaming.step,
                    streaming.input_signature(),
                    quantization,
                    hop_inputs,
                    track=model.network,
                    float_nodes=lite.float_nodes(models["streaming"])
                    if quantization == "int8"
                    else (),
                )

        print(f"Measuring the SavedModel and {len(models)} LiteRT models on the test clips")
        serve = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
        runners = {name: lite.LiteModel(content) for name, content in models.items()}
        heard = streaming.memory_steps * streaming.hop_samples if streaming else 0
        zero_state = streaming.initial_state() if streaming else None  # stream_clip copies it
        labels, saved, predicted = [], [], {name: [] for name in models}
        bar = progress_bar(len(splits.labels("test")), "clip")
        for clips, batch_labels in splits.clips("test").batch(64):  # one pass, a batch in memory
            clips = clips.numpy()
            labels += batch_labels.numpy().tolist()
            saved += serve(audio=tf.constant(clips))["probabilities"].numpy().argmax(-1).tolist()
            for clip in clips:
                for name, runner in runners.items():
                    if name.startswith("clip"):
                        found = runner(audio=clip[None])["probabilities"][0]
                    else:  # hop by hop from a zero state, over the frames the clip model reads
                        found = stream_clip(
                            runner, zero_state, clip[:heard], streaming.hop_samples
                        )[-1]
                    predicted[name].append(int(np.argmax(found)))
            bar.add(len(clips))
        labels, saved = np.array(labels), np.array(saved)
        report = {
            "export_version": int(export_dir.name),
            "sample_rate": config.sample_rate,
            "clip_samples": config.clip_samples,
            "hop_samples": config.hop_samples if streaming else None,
            "class_names": list(config.class_names),
            "test_clips": len(labels),
            "representative_clips": len(training),
            "saved_model_test_accuracy": round(float(np.mean(saved == labels)), 4),
            "models": {},
        }
        for name, content in models.items():
            found = np.array(predicted[name])
            report["models"][name] = {
                "file": f"{name}.tflite",
                "bytes": len(content),
                "test_accuracy": round(float(np.mean(found == labels)), 4),
                "same_label_as_saved_model": round(float(np.mean(found == saved)), 4),
            }
        if streaming is not None:
            report["streaming_state"] = {k: list(v) for k, v in streaming.state_shapes().items()}
        target = run.lite
        tmp = run.export / f".{target.name}-tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, content in models.items():
            (tmp / f"{name}.tflite").write_bytes(content)
        io.write_json(tmp / "lite.json", report)
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
        report["directory"] = str(target)
        return report


def print_report(report: dict) -> None:
    """The models, their sizes and accuracies, one line each."""
    print(
        f"\nSavedModel (version {report['export_version']}): test accuracy "
        f"{report['saved_model_test_accuracy']:.4f} on {report['test_clips']} clips"
    )
    for name, model in report["models"].items():
        print(
            f"{name + '.tflite':<24} {model['bytes'] / 1024:8.0f} KB  test accuracy "
            f"{model['test_accuracy']:.4f}  same label as the SavedModel "
            f"{model['same_label_as_saved_model']:.4f}"
        )
    print(f"written to {report['directory']}")


if __name__ == "__main__":
    raise SystemExit(main())
