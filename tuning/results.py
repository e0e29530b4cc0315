"""What a search leaves behind: `results.csv`, plots of the objective, `summary.json`."""

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from shared import io
from shared.plots import plt
from shared.plots import save_figure
from tuning.hypermodel import TRIAL_SUMMARY


def trial_rows(tuner, names: list[str]) -> list[dict]:
    """One row per trial: id, status, every hyperparameter, objective, epochs, seconds."""
    rows = []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        values = trial.hyperparameters.values
        runs = sorted(Path(tuner.get_trial_dir(trial_id)).glob(f"execution_*/{TRIAL_SUMMARY}"))
        done = [json.loads(p.read_text()) for p in runs]
        score = trial.score
        status = str(trial.status).split(".")[-1]
        reason = ""
        if trial.message:
            lines = [line for line in trial.message.strip().splitlines() if line.strip()]
            reason = lines[-1][:300] if lines else ""
        rows.append(
            {
                "trial_id": trial_id,
                "status": status,
                **{name: values.get(name, "") for name in names},
                "objective": "" if score is None or not math.isfinite(score) else score,
                "epochs": sum(d["epochs"] for d in done) if done else "",
                "seconds": round(sum(d["seconds"] for d in done), 1) if done else "",
                "reason": reason,
            }
        )
    return rows


def write_results(rows: list[dict], path: Path) -> None:
    """`results.csv`, written atomically."""
    if not rows:
        return
    with io.atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def plot_results(
    rows: list[dict], names: list[str], objective: str, folder: Path, log_names=frozenset()
) -> None:
    """`objective_by_trial.png` and `objective_vs_<hyperparameter>.png` for each one
    (`log_names`: hyperparameters sampled on a log scale, drawn on one)."""
    done = [r for r in rows if r["objective"] != ""]
    if not done:
        return
    folder.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(range(1, len(done) + 1), [r["objective"] for r in done], marker="o")
    axis.set_xlabel("trial (completed, in order)")
    axis.set_ylabel(objective)
    axis.grid(alpha=0.3)
    save_figure(figure, folder / "objective_by_trial.png")
    for name in names:
        values = [r[name] for r in done]
        figure, axis = plt.subplots(figsize=(4.5, 3.5))
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            axis.scatter(values, [r["objective"] for r in done])
            if name in log_names:
                axis.set_xscale("log")
        else:
            labels = sorted({str(v) for v in values})
            axis.scatter([labels.index(str(v)) for v in values], [r["objective"] for r in done])
            axis.set_xticks(range(len(labels)), labels)
        axis.set_xlabel(name)
        axis.set_ylabel(objective)
        axis.grid(alpha=0.3)
        save_figure(figure, folder / f"objective_vs_{name}.png")


def test_value(metrics: dict, path: str) -> float:
    """The value at a dotted path of `metrics.json` (e.g. `model.mae`)."""
    value: Any = metrics
    for key in path.split("."):
        value = value[key]
    return float(value)


def spread(values: list[float]) -> dict:
    array = np.asarray(values, float)
    return {
        "values": [round(v, 6) for v in values],
        "mean": round(float(array.mean()), 6),
        "std": round(float(array.std(ddof=1)) if len(array) > 1 else 0.0, 6),
    }


def compare(best: list[float], default: list[float], higher_is_better: bool) -> dict:
    """Mean and spread of both configurations and a plain verdict.

    The best configuration "beats" the default only when its mean is better by more than the
    two standard errors combined (a rough test; with 3 seeds, treat it as a hint).
    """
    b, d = spread(best), spread(default)
    gain = (b["mean"] - d["mean"]) * (1 if higher_is_better else -1)
    noise = math.sqrt(b["std"] ** 2 / len(best) + d["std"] ** 2 / len(default))
    if gain > 2 * noise:
        verdict = "the best trial beats the default configuration"
    elif gain < -2 * noise:
        verdict = "the default configuration beats the best trial"
    else:
        verdict = "no clear difference: within the seed-to-seed spread"
    return {
        "best": b,
        "default": d,
        "gain": round(gain, 6),
        "noise": round(noise, 6),
        "verdict": verdict,
    }
