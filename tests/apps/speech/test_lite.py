"""End to end: a tiny `--streaming` run, its LiteRT models and the `stream` command."""

import json
import re

import numpy as np
import pytest

from apps.speech import export_lite
from apps.speech import stream
from apps.speech import train
from apps.speech.detection import Detection
from apps.speech.detection import compose_recording
from apps.speech.detection import score
from apps.speech.wav import encode_wav
from shared.run_dir import RunDir
from tests.apps.speech.conftest import TINY_FLAGS
from tests.apps.speech.conftest import keyword
from tests.apps.speech.conftest import write_clips

MODELS = {
    f"{kind}{suffix}" for kind in ("clip", "streaming") for suffix in ("", "_dynamic", "_int8")
}


@pytest.fixture(scope="module")
def lite_run(tmp_path_factory):
    """A tiny streaming run that tells the tones apart, and its LiteRT models."""
    root = tmp_path_factory.mktemp("speech_lite")
    write_clips(root / "data", "train", copies=8)
    write_clips(root / "data", "test", copies=4)
    run_dir = root / "run"
    learn = ["--epochs", "25", "--patience", "25", "--learning_rate", "0.01", "--no-augment"]
    learn += ["--ema_momentum", "0", "--conv_filters", "8", "--units", "8", "--head_units", "16"]
    argv = ["--data_dir", str(root / "data"), "--output_dir", str(run_dir), *TINY_FLAGS, *learn]
    assert train.main([*argv, "--streaming"]) == 0
    assert export_lite.main(["--run_dir", str(run_dir), "--representative_clips", "8"]) == 0
    return run_dir


def test_lite_models_answer_as_the_saved_model(lite_run):
    lite_dir = RunDir(lite_run).lite
    report = json.loads((lite_dir / "lite.json").read_text())
    assert {p.stem for p in lite_dir.glob("*.tflite")} == MODELS == set(report["models"])
    assert report["test_clips"] == 12 and report["representative_clips"] == 8
    assert report["hop_samples"] == 80 * 2 and report["sample_rate"] == 8000
    assert report["saved_model_test_accuracy"] >= 0.9  # the tones were learned
    for name, model in report["models"].items():
        assert model["bytes"] == (lite_dir / model["file"]).stat().st_size
        # Float: the same network, the same answers; quantized: nearly.
        floor = 1.0 if name in ("clip", "streaming") else 0.75
        assert model["same_label_as_saved_model"] >= floor, name
    assert report["models"]["streaming"]["bytes"] < report["models"]["clip"]["bytes"]
    # The folder is no export version: TF Serving and evaluate still see version 1.
    assert RunDir(lite_run).latest_export().name == "1"
    assert not list((lite_run / "export").glob(".*"))


def test_stream_hears_the_tones_of_a_recording(lite_run, tmp_path, capsys):
    rng = np.random.default_rng(11)
    labels = ["low", "high", "chirp"] * 3
    clips = [keyword(label, 0.2, 8000, rng).astype(np.float32) for label in labels]
    audio, events = compose_recording(clips, labels, 8000, seed=1, noise=(0.005, 0.005))
    path = tmp_path / "recording.wav"
    path.write_bytes(encode_wav(audio, 8000))
    capsys.readouterr()
    assert stream.main(["--run_dir", str(lite_run), str(path), "--refractory", "0.4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    found = [re.match(r"\s*([\d.]+) s  (\w+)  ([\d.]+)$", line) for line in lines[:-1]]
    assert all(found), lines
    detections = [Detection(float(m[1]), m[2], float(m[3])) for m in found]
    result = score(detections, events, latest=0.3)
    assert result["recall"] >= 0.7 and result["precision"] >= 0.7, (result, lines)
    assert re.search(r"keyword\(s\) in [\d.]+ s of audio; \d+ hops", lines[-1])


def test_stream_names_what_is_missing(lite_run, tmp_path, capsys):
    assert stream.main(["--run_dir", str(tmp_path), "x.wav"]) == 1
    assert "run python -m apps.speech.export_lite" in capsys.readouterr().err
    assert stream.main(["--run_dir", str(lite_run), str(tmp_path / "none.wav")]) == 1
    assert "none.wav: no such file" in capsys.readouterr().err
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00WAVE-garbage")
    assert stream.main(["--run_dir", str(lite_run), str(tmp_path / "bad.wav")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'bad.wav'}: ")
    (tmp_path / "ok.wav").write_bytes(encode_wav(np.zeros(800), 8000))
    args = ["--run_dir", str(lite_run), str(tmp_path / "ok.wav"), "--ignore", "nope"]
    assert stream.main(args) == 1
    assert "--ignore: no class nope" in capsys.readouterr().err


def test_stream_takes_any_recording_and_refuses_nan(lite_run, tmp_path, capsys):
    rng = np.random.default_rng(2)
    stereo = np.stack([keyword("high", 0.2, 44100, rng)] * 2, axis=1)
    for name, wave, rate in [("empty", np.zeros(0), 8000), ("stereo", stereo, 44100)]:
        (tmp_path / f"{name}.wav").write_bytes(encode_wav(wave, rate, bits=24))
        assert stream.main(["--run_dir", str(lite_run), str(tmp_path / f"{name}.wav")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("0 keyword(s) in 0.0 s of audio; 1 hops")
    wave = keyword("low", 0.3, 8000, rng)
    wave[100] = np.nan
    (tmp_path / "nan.wav").write_bytes(encode_wav(wave, 8000, bits=32, floating=True))
    assert stream.main(["--run_dir", str(lite_run), str(tmp_path / "nan.wav")]) == 1
    assert "nan.wav: samples contain NaN or infinity" in capsys.readouterr().err  # the decoder's
