"""Every app's commands answer `--help`, keep the usage examples' lines, show each default once;
`train --help` lists every config field; a flag typo is answered before TensorFlow loads; and
start-up prints none of TensorFlow's C++ log lines."""

import dataclasses
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import shared
from shared.commands import config_class
from shared.commands import native_logs_hidden

# Every folder of apps/ with a train command: an app added later is tested without editing this.
APPS = sorted(p.parent.name for p in (Path(__file__).parents[2] / "apps").glob("*/train.py"))


def test_every_app_is_found():
    assert APPS == ["captioning", "sentiment", "speech", "translation", "video", "weather"]


def test_help_keeps_the_usage_lines_and_shows_each_default_once(capsys):
    train = importlib.import_module("apps.weather.train")
    with pytest.raises(SystemExit):
        train.main(["--help"])
    text = capsys.readouterr().out
    assert "\npython -m apps.weather.train --data_dir DIR --target_columns TEMP\n" in text
    assert "(default: runs/weather)" in text
    lines = " ".join(text.split())  # help texts wrap
    assert "(default: all GPUs)" in lines and "(default: all GPUs) (default:" not in lines
    assert "the app's standard data set (default: None)" not in lines


# Commands of one app or of the suite, with a typo of one of their flags.
EXTRA = [
    ("apps.speech.export_lite", "--representative_clip"),
    ("apps.speech.stream", "--thresh"),
    ("shared.serving_config", "--kep"),
]

TYPOS = """
import importlib, sys
EXTRA = EXTRA_COMMANDS
results = []
for app in sys.argv[1:]:
    for command, typo in (("train", "--epoch"), ("evaluate", "--run_di"), ("predict", "--topp")):
        try:
            importlib.import_module(f"apps.{app}.{command}").main([typo, "1"])
        except SystemExit as exit:
            results.append(exit.code)
try:  # the tuning command too
    importlib.import_module("tuning.search").main(["--app", "sentiment", "--epoch", "1"])
except SystemExit as exit:
    results.append(exit.code)
for module, typo in EXTRA:  # and the commands beyond train, evaluate and predict
    try:
        importlib.import_module(module).main(["--run_dir", "r", typo, "1"])
    except SystemExit as exit:
        results.append(exit.code)
print(results, "tensorflow" in sys.modules)
""".replace("EXTRA_COMMANDS", repr(EXTRA))


def test_a_flag_typo_is_answered_before_tensorflow_loads():
    """Abbreviations are typos too (`--epoch 1` is not `--epochs 1`)."""
    done = subprocess.run(
        [sys.executable, "-c", TYPOS, *APPS], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"{[2] * (3 * len(APPS) + 1 + len(EXTRA))} False"
    assert "unrecognized arguments: --epoch 1" in done.stderr


def test_start_up_prints_no_tensorflow_log_lines(tmp_path):
    """TensorFlow starts (after the flags are checked) without its C++ log lines."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    argv = [sys.executable, "-m", "apps.sentiment.predict", "--run_dir", str(tmp_path), "Fine."]
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert done.stderr == f"error: {tmp_path}: no config.json; is this a run directory?\n"


NATIVE = b"I0000 00:00:1796625614.721733   31406 port.cc:153] oneDNN custom operations are on.\n"


@pytest.mark.parametrize("user_level", [None, "0"])
def test_native_log_lines_are_dropped_unless_the_user_sets_a_level(user_level, capfd, monkeypatch):
    """Only TensorFlow's C++ lines are dropped (what else reaches stderr passes), and not at
    all when the user set `TF_CPP_MIN_LOG_LEVEL`."""
    monkeypatch.setattr(shared, "USER_TF_LOG_LEVEL", user_level)
    with native_logs_hidden():
        os.write(2, NATIVE + b"WARNING: All log messages before absl::InitializeLog() ...\n")
        os.write(2, b"a warning of ours\n")
    err = capfd.readouterr().err
    assert err.endswith("a warning of ours\n")
    assert ("port.cc:153]" in err) == (user_level is not None)


@pytest.mark.parametrize("app", APPS)
def test_train_help_lists_every_flag(app, capsys):
    train = importlib.import_module(f"apps.{app}.train")
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for field in dataclasses.fields(config_class(app)):
        assert f"--{field.name}" in text, field.name


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("app", APPS)
def test_evaluate_and_predict_answer_help(app, command, capsys):
    module = importlib.import_module(f"apps.{app}.{command}")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert "--run_dir" in capsys.readouterr().out


@pytest.mark.parametrize("module", [module for module, _ in EXTRA])
def test_the_other_commands_answer_help(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module(module).main(["--help"])
    assert exit_info.value.code == 0
    assert f"usage: python -m {module}" in capsys.readouterr().out
