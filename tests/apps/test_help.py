"""Every app's commands answer `--help`; `train --help` lists every config field."""

import dataclasses
import importlib
from pathlib import Path

import pytest

from shared.config import BaseConfig

# Every folder of apps/ with a train command: an app added later is tested without editing this.
APPS = sorted(p.parent.name for p in (Path(__file__).parents[2] / "apps").glob("*/train.py"))


def test_every_app_is_found():
    assert APPS == ["captioning", "sentiment", "speech", "translation", "video", "weather"]


def config_class(app: str) -> type:
    module = importlib.import_module(f"apps.{app}.config")
    (found,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseConfig)
        and getattr(value, "APP", None) == app
    ]
    return found


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
