"""The search itself (`python -m tuning.search` parses its flags first, then calls `run`): the
app's data and preprocessing once, Keras Tuner's trials, results, plots, `best/` and the
optional confirmation over seeds."""

import dataclasses
import os
from pathlib import Path

from shared import io
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
from tuning.search import PROJECT
from tuning.search import load_app
from tuning.space import SpaceError
from tuning.space import parse_space


def run(args, config) -> int:
    """The search of `args` (this command's flags) over the app's `config` (its flags)."""
    task, default_space = load_app(args.app)
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
