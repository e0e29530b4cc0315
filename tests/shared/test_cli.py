import dataclasses
import json
from typing import Optional

import pytest

from shared.cli import build_parser
from shared.cli import command
from shared.cli import parse_config
from shared.config import BaseConfig
from shared.config import RecurrentConfig
from shared.config import default
from shared.config import option
from shared.errors import UserError


@dataclasses.dataclass(frozen=True)
class ToyConfig(RecurrentConfig):
    APP = "toy"

    columns: tuple[str, ...] = option(("a", "b"), "Column names")
    fractions: tuple[float, ...] = option((0.7, 0.3), "Split fractions", min=0.0)
    note: Optional[str] = option(None, "A note")


def parse(argv):
    return parse_config(ToyConfig, argv, prog="toy")


def error_line(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_defaults_come_from_the_dataclass():
    assert parse([]) == ToyConfig()


def test_flags_of_every_type():
    config = parse(
        [
            "--units",
            "8",
            "--learning_rate",
            "0.01",
            "--no-bidirectional",
            "--cell",
            "gru",
            "--columns",
            "x,y,z",
            "--fractions",
            "0.5,0.5",
            "--data_dir",
            "/data",
            "--note",
            "hi",
        ]
    )
    assert (config.units, config.learning_rate, config.bidirectional, config.cell) == (
        8,
        0.01,
        False,
        "gru",
    )
    assert config.columns == ("x", "y", "z") and config.fractions == (0.5, 0.5)
    assert config.data_dir == "/data" and config.note == "hi"


def test_config_file_then_flags(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"units": 5, "epochs": 7, "columns": ["p", "q"]}))
    config = parse(["--config", str(path), "--epochs", "2"])
    assert (config.units, config.epochs, config.columns) == (5, 2, ("p", "q"))


def test_saved_config_round_trips(tmp_path):
    config = parse(["--units", "9", "--columns", "m"])
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert parse(["--config", str(path)]) == config


def test_unknown_key_in_config_file(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"unitz": 5}))
    assert "unitz" in error_line(capsys, ["--config", str(path)])


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--cell", "transformer"], ["--cell", "lstm", "simple_rnn"]),
        (["--units", "many"], ["--units", "int"]),
        (["--units", "0"], ["--units", ">= 1"]),
        (["--dropout", "1.5"], ["--dropout", "<= 0.95"]),
        (["--learning_rate", "0"], ["--learning_rate", "> 0"]),
        (["--fractions", "0.5,x"], ["--fractions", "float"]),
        (["--unknown_flag", "1"], ["--unknown_flag"]),
    ],
)
def test_bad_values_exit_2_with_one_line_naming_the_flag(capsys, argv, words):
    err = error_line(capsys, argv)
    for word in words:
        assert word in err


def test_help_lists_every_field_with_its_default():
    text = build_parser(ToyConfig, "Toy.").format_help()
    for field in dataclasses.fields(ToyConfig):
        assert f"--{field.name}" in text
    assert "--no-bidirectional" in text and "(default: 1337)" in text


def test_command_turns_user_errors_into_exit_1(capsys):
    @command
    def main(argv=None):
        raise UserError("data/train/x.txt: not UTF-8 text")

    assert main([]) == 1
    assert capsys.readouterr().err == "error: data/train/x.txt: not UTF-8 text\n"


@dataclasses.dataclass(frozen=True)
class OtherDefaults(RecurrentConfig):
    units: int = default(RecurrentConfig, "units", 7)
    patience: int = default(BaseConfig, "patience", 9, "Wait this long")


def test_a_changed_default_keeps_the_help_and_bounds_of_the_base_field(capsys):
    assert (OtherDefaults().units, OtherDefaults().patience) == (7, 9)
    fields = {f.name: f for f in dataclasses.fields(OtherDefaults)}
    base = {f.name: f for f in dataclasses.fields(RecurrentConfig)}
    assert fields["units"].metadata == base["units"].metadata
    assert fields["patience"].metadata["help"] == "Wait this long"
    with pytest.raises(ValueError, match="--units: must be >= 1"):
        OtherDefaults(units=0)


def test_a_config_file_of_another_app_is_named(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"app": "weather", "units": 4}))
    err = error_line(capsys, ["--config", str(path)])
    assert "a weather run, not toy" in err
    assert json.loads(ToyConfig().to_json())["app"] == "toy"
    path.write_text(ToyConfig(units=5).to_json())  # its own app's file replays
    assert parse(["--config", str(path)]).units == 5
