"""What every `evaluate` command shares: finding the run, checking classes, merging metrics."""

from pathlib import Path
from typing import Any
from typing import Optional
from typing import Sequence

from shared import io
from shared.cli import ArgumentParser
from shared.config import read_config
from shared.errors import UserError
from shared.plots import plot_confusion_matrix
from shared.run_dir import RunDir


def evaluation_parser(prog: str, description: str, *, tfds: bool = True) -> ArgumentParser:
    """`--run_dir`, `--data_dir` and (for TFDS apps) `--tfds_data_dir`."""
    parser = ArgumentParser(prog=prog, description=description)
    parser.add_argument("--run_dir", required=True, help="A finished run directory")
    parser.add_argument("--data_dir", help="Evaluate on this folder instead of the run's data")
    if tfds:
        parser.add_argument("--tfds_data_dir", help="TFDS cache folder")
    return parser


def prediction_parser(prog: str, description: str, *, metavar: str, help: str) -> ArgumentParser:
    """`--run_dir` and one or more positional inputs, for the `predict` commands."""
    parser = ArgumentParser(prog=prog, description=description)
    parser.add_argument("--run_dir", required=True, help="A finished run directory")
    parser.add_argument("inputs", nargs="+", metavar=metavar, help=help)
    return parser


def finished_run(run_dir: str) -> RunDir:
    """The run directory, or a `UserError` if it holds no `config.json`."""
    run = RunDir(Path(run_dir))
    if not run.config.exists():
        raise UserError(f"{run.root}: no config.json; is this a run directory?")
    return run


def run_config(config_cls: type, run: RunDir, **overrides: Any) -> Any:
    """The run's saved config with the given fields replaced (None leaves a field alone)."""
    return read_config(config_cls, run.config, **overrides)


def check_classes(found: Sequence[str], expected: Sequence[str]) -> None:
    if tuple(found) != tuple(expected):
        raise UserError(f"the data's classes {list(found)} differ from the run's {list(expected)}")


def merged_metrics(run: RunDir, metrics: dict, *, test_examples: Optional[int] = None) -> dict:
    """New test metrics over the run's earlier `metrics.json` (timing, data report, ...)."""
    previous = io.read_json(run.metrics) if run.metrics.exists() else {}
    merged = {**previous, **metrics, "evaluated_export": str(run.latest_export())}
    if test_examples is not None:
        merged["examples"] = {**previous.get("examples", {}), "test": int(test_examples)}
    return merged


def write_classifier_report(run: RunDir, metrics: dict, class_names: Sequence[str]) -> None:
    """`metrics.json` and `plots/confusion_matrix.png` of a classifier."""
    io.write_json(run.metrics, metrics)
    plot_confusion_matrix(
        metrics["confusion_matrix"], class_names, run.plots / "confusion_matrix.png"
    )
