"""Keras Tuner search over any app: the app's flags fix the rest of the configuration.

python -m tuning.search --app sentiment --data_dir data/sentiment --max_trials 8
python -m tuning.search --app weather --data_dir DATA/weather --tuner hyperband \\
    --space "units=32,64;input_steps=48,72" --epochs 12
python -m tuning.search --app speech --confirm_seeds 3 ...     # is the winner really better?

Flags of this command come first; every other flag is the app's own (see
`python -m apps.<app>.train --help`). With KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and
KERASTUNER_ORACLE_PORT set, the same command runs as the chief (`chief`: the oracle, which
hands out trials and writes the results) or as a worker (any other id: runs trials).
"""

import argparse
import importlib
import sys
from typing import TYPE_CHECKING
from typing import Optional
from typing import Sequence

from shared.cli import ArgumentParser
from shared.cli import command
from shared.cli import parse_config
from shared.commands import config_class
from shared.commands import load_task
from shared.commands import start_tensorflow

if TYPE_CHECKING:
    from shared.task import Task

APPS = ("sentiment", "translation", "weather", "speech", "captioning", "video")
PROJECT = "search"  # the Keras Tuner project folder inside --output_dir
TUNER_NAMES = ("bayesian", "hyperband", "random")  # tuning.hypermodel.TUNERS, by name


def load_app(app: str) -> tuple["Task", str]:
    """The app's Task and its default search space (`SEARCH_SPACE` next to its config)."""
    space = importlib.import_module(f"apps.{app}.config").SEARCH_SPACE
    return load_task(app), space


def parse_args(argv: Optional[Sequence[str]]) -> tuple[argparse.Namespace, list[str]]:
    parser = ArgumentParser(prog="python -m tuning.search", description=__doc__)
    parser.add_argument("--app", required=True, choices=APPS)
    parser.add_argument("--tuner", default="random", choices=TUNER_NAMES)
    parser.add_argument("--max_trials", type=int, default=10, help="Trials (random, bayesian)")
    parser.add_argument(
        "--executions_per_trial",
        type=int,
        default=1,
        help="Runs per trial with different seeds; the objective is their mean",
    )
    parser.add_argument(
        "--space",
        default="",
        help="Clauses that replace or add to the app's default search space, "
        'e.g. "units=32,64;cell=gru;learning_rate=1e-4..1e-2:log"',
    )
    parser.add_argument(
        "--confirm_seeds",
        type=int,
        default=0,
        help="Retrain the best and the default configuration with this many "
        "seeds each and compare their test metric (summary.json)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="Start afresh (default: resume the search in --output_dir)",
    )
    parser.add_argument(
        "--chief_timeout",
        type=float,
        default=120.0,
        help="Distributed workers stop when the chief has not answered for this many seconds",
    )
    parser.add_argument(
        "--output_dir", default=None, help="Search directory (default: runs/tuning/<app>)"
    )
    args, rest = parser.parse_known_args(argv)
    for name in ("max_trials", "executions_per_trial"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.confirm_seeds < 0:
        parser.error("--confirm_seeds must be at least 0")
    return args, rest


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    args, app_argv = parse_args(argv)
    prog = f"python -m tuning.search --app {args.app}"
    config = parse_config(config_class(args.app), app_argv, prog=prog)  # before TensorFlow
    start_tensorflow()
    from tuning.run import run

    return run(args, config)


if __name__ == "__main__":
    sys.exit(main())
