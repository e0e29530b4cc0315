"""Every app's `train --help` lists every config field (a help text must never break argparse)."""

import dataclasses
import importlib

import pytest

APPS = {
    "sentiment": "SentimentConfig",
    "weather": "WeatherConfig",
    "speech": "SpeechConfig",
    "translation": "TranslationConfig",
    "captioning": "CaptioningConfig",
}


@pytest.mark.parametrize("app", sorted(APPS))
def test_train_help_lists_every_flag(app, capsys):
    train = importlib.import_module(f"apps.{app}.train")
    config_cls = getattr(importlib.import_module(f"apps.{app}.config"), APPS[app])
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for field in dataclasses.fields(config_cls):
        assert f"--{field.name}" in text, field.name
