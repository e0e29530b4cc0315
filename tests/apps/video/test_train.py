"""End to end: `main([...])` on generated motion clips, then the run directory, export, commands."""

import json
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from apps.video import evaluate
from apps.video import predict
from apps.video import train
from apps.video.decode import read_clip
from shared.run_dir import RunDir
from tests.apps.video.conftest import TINY_FLAGS
from tests.apps.video.conftest import small_motion
from tests.clean_client import predict_in_a_fresh_process
from tests.clean_client import run_clean_client
from tests.run_dir_test import check_finished_run_directory
from tests.run_dir_test import copy_of

# Enough for a small model to tell left from right on unseen scenes.
LEARNING_FLAGS = [*TINY_FLAGS, "--epochs", "25", "--patience", "25", "--learning_rate", "0.003"]
LEARNING_FLAGS += ["--units", "32", "--frame_dropout", "0", "--head_dropout", "0"]

LR = ("left", "right")

CLEAN_CLIENT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
    clips = np.load(sys.argv[2])
    left = serve(frames=tf.constant(clips["left"]))
    right = serve(frames=tf.constant(clips["right"]))
    padded = serve(frames=tf.constant(clips["padded"]))
    empty = serve(frames=tf.zeros([1, 0, 8, 8, 3], tf.uint8))
    project = sorted(m for m in sys.modules if m.split(".")[0] in ("apps", "shared", "tests"))
    print(json.dumps({
        "inputs": {n: s.dtype.name for n, s in serve.structured_input_signature[1].items()},
        "outputs": sorted(serve.structured_outputs),
        "project_modules": project,
        "labels": [left["label"].numpy()[0].decode(), right["label"].numpy()[0].decode()],
        "probabilities": left["probabilities"].numpy().tolist(),
        "padded": padded["probabilities"].numpy().tolist(),
        "empty": empty["probabilities"].numpy().shape[1],
    }))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One run that learns left from right, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("video")
    data_dir = small_motion(root / "data", train=24, test=6, seed=3)
    run_dir = root / "run"
    flags = [*LEARNING_FLAGS, "--cache_dir", str(root / "cache")]
    assert train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir), *flags]) == 0
    return run_dir, data_dir, root / "cache"


def test_a_model_that_sees_time_tells_reversed_motions_apart(trained_run):
    run_dir, _, _ = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["accuracy"] == 1.0, metrics["confusion_matrix"]
    # The same frame vectors averaged over time cannot: left and right look alike frame by frame.
    assert metrics["bag_of_frames"]["accuracy"] <= 0.75


def test_run_directory_follows_the_contract(trained_run):
    run_dir, _, _ = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy", "macro_f1", "per_class", "baseline_majority", "bag_of_frames", "data"):
        assert key in metrics, key
    assert metrics["examples"]["test"] == 12
    # Scored from the cache; the export, sent the same clips as raw frames, agrees.
    check = metrics["export_check"]
    assert check["clips"] == 4 and check["same_top_class"] == 1.0
    assert check["max_probability_difference"] < 1e-4
    assert metrics["data"]["train"]["clips"] + metrics["data"]["val"]["clips"] == 48
    assert metrics["data"]["validation"]["grouping"] == "UCF101 file names"
    assert metrics["data"]["features"]["input"] == "pixels"
    check_finished_run_directory(run_dir, {"attention.png", "confusion_matrix.png"})


def test_export_takes_raw_frames_in_a_clean_process(trained_run, tmp_path):
    run_dir, data_dir, _ = trained_run
    left, right = (read_clip(sorted((data_dir / "test" / c).iterdir())[0], 64) for c in LR)
    # Every frame of each clip at the file's own size; then the left one with zero frames after.
    padded = np.concatenate([left, np.zeros_like(left[:5])])
    np.savez(tmp_path / "clips.npz", left=left[None], right=right[None], padded=padded[None])
    answer = run_clean_client(
        CLEAN_CLIENT,
        run_dir / "export" / "1",
        str(tmp_path / "clips.npz"),
        cwd=tmp_path,
        warmup=run_dir / "export" / "1",
    )
    assert answer["inputs"] == {"frames": "uint8"}
    assert answer["outputs"] == ["label", "probabilities"] and answer["project_modules"] == []
    assert answer["labels"] == ["left", "right"]
    np.testing.assert_allclose(answer["padded"], answer["probabilities"], atol=1e-5)
    assert answer["empty"] == 2


def test_best_keras_classifies_raw_frames_in_a_fresh_process(trained_run, tmp_path):
    """The checkpoint alone, in a new Python: raw frames in, the export's probabilities out."""
    run_dir, data_dir, _ = trained_run
    clips = sorted((data_dir / "test" / "left").iterdir())[:2]
    left, other = (read_clip(clip, 64) for clip in clips)
    size = tuple(min(a, b) for a, b in zip(left.shape[1:3], other.shape[1:3]))
    frames = np.zeros((2, len(left) + 5, *size, 3), np.uint8)  # the second padded, cropped
    frames[0, : len(left)] = left[:, : size[0], : size[1]]
    frames[1, : len(other)] = other[: len(left) + 5, : size[0], : size[1]]
    fresh = predict_in_a_fresh_process("video", RunDir(run_dir).best_model, frames, tmp_path)
    export = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    served = export(frames=tf.constant(frames))["probabilities"].numpy()
    np.testing.assert_allclose(fresh, served, atol=1e-5)


def test_evaluate_rewrites_metrics_through_the_export(trained_run, tmp_path):
    run_dir = copy_of(trained_run[0], tmp_path)
    before = json.loads((run_dir / "metrics.json").read_text())
    assert evaluate.main(["--run_dir", str(run_dir)]) == 0
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["accuracy"] == before["accuracy"]
    assert after["bag_of_frames"] == before["bag_of_frames"]
    assert after["evaluated_export"].endswith("export/1")


def test_predict_reads_video_files_and_frame_folders(trained_run, tmp_path, capsys):
    run_dir, data_dir, _ = trained_run
    clips = sorted((data_dir / "test" / "right").iterdir())[:2]
    assert predict.main(["--run_dir", str(run_dir), *map(str, clips)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["right", "right"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"junk" * 10)
    assert predict.main(["--run_dir", str(run_dir), str(broken)]) == 1
    assert "broken.mp4: cannot decode" in capsys.readouterr().err


def test_bad_data_writes_nothing(tmp_path, capsys):
    root = small_motion(tmp_path / "data", train=4, test=1)
    for clip in (root / "test").glob("*/*"):  # every test clip unreadable
        if clip.is_dir():
            for frame in clip.iterdir():
                frame.write_bytes(b"not a png")
        else:
            clip.write_bytes(b"not a video")
    run_dir = tmp_path / "run"
    argv = ["--data_dir", str(root), "--output_dir", str(run_dir), *TINY_FLAGS]
    argv += ["--cache_dir", str(tmp_path / "cache")]
    assert train.main(argv) == 1
    assert not run_dir.exists()
    assert "no clip of the test split could be read" in capsys.readouterr().err
