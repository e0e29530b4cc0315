"""End to end: `main([...])` on tiny WAV folders; the run directory, the export, the commands."""

import json
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from apps.speech import evaluate
from apps.speech import predict
from apps.speech import train
from apps.speech.wav import encode_wav
from shared.run_dir import RunDir
from tests.apps.speech.conftest import TINY_FLAGS
from tests.apps.speech.conftest import keyword
from tests.apps.speech.conftest import write_clips
from tests.clean_client import predict_in_a_fresh_process
from tests.clean_client import run_clean_client
from tests.run_dir_test import check_finished_run_directory
from tests.run_dir_test import copy_of

# Imports nothing from this project: the export must stand on its own, as in TF Serving.
# Reads 16-bit WAV files with the standard library and sends each both as float samples
# (zero-padded into one batch) and as the file's bytes.
CLEAN_CLIENT = textwrap.dedent("""
    import json, sys, wave
    import numpy as np
    import tensorflow as tf
    model = tf.saved_model.load(sys.argv[1])
    files = sys.argv[2:]
    waves = []
    for name in files:
        with wave.open(name) as f:
            waves.append(np.frombuffer(f.readframes(f.getnframes()), "<i2") / 32768.0)
    batch = np.zeros((len(waves), max(map(len, waves))), np.float32)
    for row, w in enumerate(waves):
        batch[row, :len(w)] = w
    by_audio = model.signatures["serving_default"](audio=tf.constant(batch))
    blobs = [open(name, "rb").read() for name in files]
    by_wav = model.signatures["audio_wav"](wav_bytes=tf.constant(blobs))
    batch[1, 5] = np.nan  # one bad element per batch: answered alone
    bad_audio = model.signatures["serving_default"](audio=tf.constant(batch))
    bad_wav = model.signatures["audio_wav"](wav_bytes=tf.constant([b"junk", *blobs[1:]]))
    project = sorted(m for m in sys.modules if m.split(".")[0] in ("apps", "shared", "tests"))
    print(json.dumps({
        "signatures": sorted(model.signatures),
        "project_modules": project,
        "labels_audio": [s.decode() for s in by_audio["label"].numpy()],
        "labels_wav": [s.decode() for s in by_wav["label"].numpy()],
        "probabilities_audio": by_audio["probabilities"].numpy().tolist(),
        "probabilities_wav": by_wav["probabilities"].numpy().tolist(),
        "bad_audio": [[s.decode() for s in bad_audio[k].numpy()] for k in ("label", "error")],
        "bad_wav": [[s.decode() for s in bad_wav[k].numpy()] for k in ("label", "error")],
    }))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One complete tiny run shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("speech")
    write_clips(root / "data", "train", copies=8)
    write_clips(root / "data", "test", copies=4)
    (root / "data" / "test" / "low" / "corrupt.wav").write_bytes(b"RIFF\x00\x00WAVE-garbage")
    run_dir = root / "run"
    # Enough steps for the tiny model to tell the tones apart (augmentation is tested elsewhere).
    learn = ["--epochs", "40", "--patience", "40", "--learning_rate", "0.01", "--no-augment"]
    learn += ["--ema_momentum", "0"]  # 120 steps: an average over ~100 would lag behind
    learn += ["--conv_filters", "8", "--units", "8", "--head_units", "16"]
    argv = ["--data_dir", str(root / "data"), "--output_dir", str(run_dir), *TINY_FLAGS, *learn]
    assert train.main(argv) == 0
    return run_dir, root / "data"


def test_run_directory_follows_the_contract(trained_run):
    run_dir, _ = trained_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["class_names"] == ["chirp", "high", "low"] and config["sample_rate"] == 8000
    assert config["max_frequency"] == 4000  # resolved from the recordings, kept for serving
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy", "top2_accuracy", "per_class", "baseline_majority", "confusion_matrix"):
        assert key in metrics, key
    assert metrics["examples"]["test"] == 12 and metrics["train_examples_per_second"] > 0
    assert metrics["top2_accuracy"] >= metrics["accuracy"]
    # The default: a new model on train+val, for the selected epochs times the data growth.
    refit, examples = metrics["refit"], metrics["examples"]
    assert refit["examples"] == examples["train"] + examples["val"] == 24
    growth = refit["examples"] / examples["train"]
    assert refit["mode"] == "scratch" and refit["epochs"] == round(metrics["best_epoch"] * growth)
    assert "test accuracy" in refit["selection"]["test"]["summary"]
    assert metrics["accuracy"] >= 0.75 > metrics["baseline_majority"]["accuracy"]  # it learned
    assert metrics["data"]["skipped_files"] == 1 and "corrupt.wav" in metrics["data"]["skipped"][0]
    check = metrics["export_check"]
    assert check["clips"] == 12 and check["same_label"] == 1.0
    assert check["max_probability_difference"] < 1e-4
    check_finished_run_directory(run_dir, {"confusion_matrix.png", "test_examples.png"})


def test_export_serves_waveforms_and_wav_bytes_alike_in_a_clean_process(trained_run, tmp_path):
    run_dir, _ = trained_run
    rng = np.random.default_rng(5)
    files = []
    for i, (label, seconds) in enumerate([("low", 0.1), ("high", 0.6), ("chirp", 0.25)]):
        path = tmp_path / f"{i}.wav"
        path.write_bytes(encode_wav(keyword(label, seconds, 8000, rng), 8000))
        files.append(str(path))
    answer = run_clean_client(
        CLEAN_CLIENT,
        run_dir / "export" / "1",
        *files,
        cwd=tmp_path,
        warmup=run_dir / "export" / "1",
    )
    assert answer["signatures"] == ["audio_wav", "serving_default"]
    assert answer["project_modules"] == []
    assert answer["labels_audio"] == answer["labels_wav"]
    assert set(answer["labels_audio"]) <= {"chirp", "high", "low"}
    np.testing.assert_allclose(
        answer["probabilities_audio"], answer["probabilities_wav"], atol=1e-5
    )
    # A NaN sample or bytes that are no WAV: that element alone gets "" and its error.
    labels = answer["labels_audio"]
    nan = "audio must hold finite samples (no NaN or inf)"
    assert answer["bad_audio"] == [[labels[0], "", labels[2]], ["", nan, ""]]
    assert answer["bad_wav"] == [["", *labels[1:]], ["not a readable WAV file", "", ""]]


def test_best_keras_classifies_waveforms_in_a_fresh_process(trained_run, tmp_path):
    """The checkpoint alone, in a new Python: waveforms of any length in, the export's
    probabilities out."""
    run_dir, _ = trained_run
    rng = np.random.default_rng(6)
    clips = [keyword(label, 0.3, 8000, rng) for label in ("low", "high", "chirp")]
    audio = np.zeros((3, 9000), np.float32)
    for row, clip in enumerate(clips):
        audio[row, : len(clip)] = clip
    fresh = predict_in_a_fresh_process("speech", RunDir(run_dir).best_model, audio, tmp_path)
    export = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    served = export(audio=tf.constant(audio))["probabilities"].numpy()
    np.testing.assert_allclose(fresh, served, atol=1e-5)


def test_evaluate_rewrites_metrics_through_the_export(trained_run, tmp_path):
    run_dir = copy_of(trained_run[0], tmp_path)  # the shared run stays as trained
    before = json.loads((run_dir / "metrics.json").read_text())
    assert evaluate.main(["--run_dir", str(run_dir)]) == 0
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["accuracy"] == pytest.approx(before["accuracy"])
    assert after["loss"] == pytest.approx(before["loss"], abs=1e-4)
    assert after["export_check"]["same_label"] == 1.0
    assert after["evaluated_export"].endswith("export/1")


def test_predict_names_each_file_and_rejects_a_corrupt_one(trained_run, capsys):
    run_dir, data_dir = trained_run
    clip = sorted((data_dir / "test" / "high").glob("*.wav"))[0]
    assert predict.main(["--run_dir", str(run_dir), str(clip)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.split("\t")[0] in {"chirp", "high", "low"} and line.endswith(str(clip))
    corrupt = data_dir / "test" / "low" / "corrupt.wav"
    assert predict.main(["--run_dir", str(run_dir), str(corrupt)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {corrupt}: not a RIFF/WAVE file"


@pytest.mark.parametrize("damage", ["missing", "all_corrupt"])
def test_bad_data_writes_nothing(clip_folder, tmp_path, capsys, damage):
    data_dir = tmp_path / "missing" if damage == "missing" else clip_folder
    if damage == "all_corrupt":
        for path in (clip_folder / "test").rglob("*.wav"):
            path.write_bytes(b"not a wav")
    run_dir = tmp_path / "run"
    assert train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert not run_dir.exists()


@pytest.mark.parametrize(
    "argv,flag",
    [(["--snr_db", "30,5"], "--snr_db"), (["--mel_bins", "16"], "--cepstral_coefficients 20")],
)
def test_bad_flag_exits_2(capsys, argv, flag):
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err
