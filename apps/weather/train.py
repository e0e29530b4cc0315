"""Train a multi-horizon weather forecaster, score it against naive baselines, export it.

python -m apps.weather.train                                   # Jena climate (downloaded)
python -m apps.weather.train --data_dir DIR --target_columns TEMP
"""

from typing import Optional
from typing import Sequence

from apps.weather.config import WeatherConfig
from apps.weather.data import load_data
from apps.weather.data import make_dataset
from apps.weather.evaluate import model_forecaster
from apps.weather.evaluate import score
from apps.weather.evaluate import write_report
from apps.weather.export import export_model
from apps.weather.model import SELECTION_METRIC
from apps.weather.model import build_forecaster
from apps.weather.model import compile_model
from shared.cli import command
from shared.cli import parse_config
from shared.plots import plot_history
from shared.training import fine_tune
from shared.training import finish_run
from shared.training import fit
from shared.training import prepare_run
from shared.training import run_summary


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    config = parse_config(WeatherConfig, argv, __doc__, prog="python -m apps.weather.train")
    data, config = load_data(config)
    run = prepare_run(config)

    datasets = {
        name: make_dataset(segment, data, config, training=name == "train")
        for name, segment in data.segments.items()
    }
    model, trainee = build_forecaster(config, data)
    windows = {
        name: segment.num_windows(config.input_steps, config.horizon)
        for name, segment in data.segments.items()
    }
    result = fit(
        trainee,
        datasets["train"],
        datasets["val"],
        config,
        num_train_examples=windows["train"],
        monitor=SELECTION_METRIC,
    )
    plot_history(result.history, run.plots / "training_curves.png", result.best_epoch)

    forecast = model_forecaster(model, data)
    summary = run_summary(result, windows)
    if config.finetune_epochs:
        selected, _ = score(forecast, data, config)
        recent = make_dataset(data.train_and_val(), data, config, training=True)
        seconds = fine_tune(trainee, recent, config, compile_model, epochs=config.finetune_epochs)
        summary["train_seconds"] = round(summary["train_seconds"] + seconds, 3)
        summary["fine_tuning"] = {
            "epochs": config.finetune_epochs,
            "seconds": seconds,
            "test_mae_before": selected["model"]["mae"],
            "skill_before": selected["skill"],
        }
    metrics, arrays = score(forecast, data, config)
    sample = {name: values[:4] for name, values in arrays["inputs"].items()}
    export_dir = export_model(model, data, config, sample, run.export)
    metrics.update(summary, data=data.report, export=str(export_dir))
    write_report(run, metrics, arrays, data)
    finish_run(run)
    print(
        f"test MAE {metrics['model']['mae']:.4f} vs persistence "
        f"{metrics['persistence']['mae']:.4f} and seasonal naive "
        f"{metrics['seasonal_naive']['mae']:.4f} (skill {metrics['skill']}); "
        f"run directory {run.root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
