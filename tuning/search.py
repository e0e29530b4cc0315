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
import dataclasses
import importlib
import os
import sys
from pathlib import Path
from typing import Optional
from typing import Sequence

from shared import io
from shared.cli import command
from shared.cli import parse_config
from shared.commands import load_task
from shared.errors import UserError
from shared.runner import train
from shared.task import Task
from tuning import distributed
from tuning.hypermodel import TUNERS
from tuning.hypermodel import TaskHyperModel
from tuning.results import compare
from tuning.results import plot_results
from tuning.results import test_value
from tuning.results import trial_rows
from tuning.results import write_results
from tuning.space import SpaceError
from tuning.space import parse_space

APPS = ("sentiment", "translation", "weather", "speech", "captioning", "video")
PROJECT = "search"  # the Keras Tuner project folder inside --output_dir


def load_app(app: str) -> tuple[Task, str]:
    """The app's Task and its default search space (`SEARCH_SPACE` next to its config)."""
    space = importlib.import_module(f"apps.{app}.config").SEARCH_SPACE
    return load_task(app), space


def parse_args(argv: Optional[Sequence[str]]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m tuning.search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--app", required=True, choices=APPS)
    parser.add_argument("--tuner", default="random", choices=sorted(TUNERS))
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
    task, default_space = load_app(args.app)
    config = parse_config(
        task.config_class, app_argv, prog=f"python -m tuning.search --app {args.app}"
    )
    output = Path(args.output_dir or f"runs/tuning/{args.app}")
    try:
        dimensions = {
            **parse_space(default_space, task.config_class),
            **parse_space(args.space, task.config_class),
        }
    except SpaceError as error:
        raise UserError(str(error)) from None
    if config.strategy != "default" or {"strategy", "devices", "scale_learning_rate"} & set(
        dimensions
    ):
        raise UserError(
            "a search trains each trial with the default strategy; scale a search out with "
            "Keras Tuner workers (KERASTUNER_* variables), then train the best configuration "
            "with --strategy"
        )
    mode = distributed.role()
    chief = mode != "worker"
    if mode != "single":
        host, port = distributed.chief_address()
        print(
            f"Distributed search: {os.environ['KERASTUNER_TUNER_ID']} ({mode}), chief at "
            f"{host}:{port}"
        )
    if mode == "worker":
        distributed.watch_chief(args.chief_timeout)
    if mode == "chief":
        distributed.prompt_chief_exit()
    data, config = task.load_data(config)
    preprocessor = task.fit_preprocessing(config, data)
    hypermodel = TaskHyperModel(task, config, data, preprocessor, dimensions)
    options = dict(
        hypermodel=hypermodel,
        objective=hypermodel.objective,
        executions_per_trial=args.executions_per_trial,
        directory=str(output),
        project_name=PROJECT,
        overwrite=args.overwrite,
        seed=config.seed,
    )
    if args.tuner == "hyperband":
        options.update(max_epochs=config.epochs, factor=3)
    else:
        options.update(max_trials=args.max_trials)
    tuner = TUNERS[args.tuner](**options)
    tuner.search()
    if not chief:
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']}: no trial left")
        return 0
    names = list(dimensions)
    rows = trial_rows(tuner, names)
    write_results(rows, output / "results.csv")
    logs = {name for name, dimension in dimensions.items() if dimension.log}
    plot_results(rows, names, task.selection_metric, output / "plots", logs)
    completed = [r for r in rows if r["objective"] != ""]
    if not completed:
        raise UserError(f"no trial completed (see {output / 'results.csv'})")
    best_hp = tuner.get_best_hyperparameters(1)[0]
    best = hypermodel.config_for(best_hp, output_dir=str(output / "best"))
    print(
        f"Best trial: {task.selection_metric} "
        f"{tuner.oracle.get_best_trials(1)[0].score:.4f} with "
        + ", ".join(f"{n}={best_hp.get(n)}" for n in names if n in best_hp.values)
    )
    metrics = train(task, best)  # best/ is a complete run directory (export included)
    summary = {
        "app": args.app,
        "tuner": args.tuner,
        "objective": task.selection_metric,
        "trials": {
            status: sum(r["status"] == status for r in rows)
            for status in sorted({r["status"] for r in rows})
        },
        "best_hyperparameters": {n: getattr(best, n) for n in names},
        "best_run": str(output / "best"),
        "test_metric": task.test_metric,
        "best_test": test_value(metrics, task.test_metric),
    }
    if args.confirm_seeds:
        summary["confirmation"] = confirm(
            task, best, config, args.confirm_seeds, output, summary["best_test"]
        )
        print(f"Confirmation ({args.confirm_seeds} seeds): {summary['confirmation']['verdict']}")
    io.write_json(output / "summary.json", summary)
    print(f"Search results in {output} (results.csv, plots/, best/, summary.json)")
    return 0


def confirm(task: Task, best, default, seeds: int, output: Path, best_test: float) -> dict:
    """Test metric of the best and of the default configuration over `seeds` seeds (the
    best configuration's first seed is the `best/` run itself)."""
    scores = {"best": [best_test], "default": []}
    for name, config in (("best", best), ("default", default)):
        for k in range(len(scores[name]), seeds):
            run_dir = output / "confirm" / name / f"seed_{k}"
            seeded = dataclasses.replace(config, seed=default.seed + k, output_dir=str(run_dir))
            metrics = train(task, seeded)
            scores[name].append(test_value(metrics, task.test_metric))
    result = compare(scores["best"], scores["default"], task.test_mode == "max")
    return {"metric": task.test_metric, "seeds": seeds, **result}


if __name__ == "__main__":
    sys.exit(main())
