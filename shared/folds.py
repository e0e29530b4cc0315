"""K-fold selection over held-out groups (`--selection_folds K`, with `--refit scratch`).

One selection run validates on one set of speakers or clip groups, so the epoch count it hands
to the final fit (`shared.refit`) depends on how those few voices happen to sound. With K
folds, the run's own selection is fold 0 and K-1 more selection runs each validate on another
disjoint set of whole groups (`--validation_fold k`, the next groups along the same seeded
order); the final fit trains for the epoch where the mean of the K validation curves is best.
Every fold trains from its own training split, preprocessor included, and none sees the test
data. Each finished fold leaves its curve in `fold.json` inside the run's resumable state, so
an interrupted run resumes with the next unfinished fold (and inside it, after its last
complete epoch).
"""

import dataclasses
import shutil
from typing import Any
from typing import Callable

import numpy as np

from shared import io
from shared.plots import plot_fold_curves
from shared.run_dir import RunDir
from shared.training import FitResult

FOLD_FILE = "fold.json"

# What a fold's selection run returns: its fit and its data report (which groups validated).
SelectFold = Callable[[Any, RunDir], tuple[FitResult, dict]]


@dataclasses.dataclass
class FoldSelection:
    """The epoch the mean validation curve chose, and the record for `metrics.json`."""

    best_epoch: int
    record: dict


def fold_run(run: RunDir, fold: int) -> RunDir:
    """Fold `fold`'s own run directory, inside the run's resumable state (gone when it ends)."""
    return RunDir(run.resume_state / "folds" / str(fold))


def select_folds(
    config: Any,
    run: RunDir,
    first: FitResult,
    first_report: dict,
    select_fold: SelectFold,
    *,
    monitor: str,
    mode: str,
) -> FoldSelection:
    """Folds 1..K-1 of `config.selection_folds` after the run's own selection (`first`, fold 0):
    each one's curve of `monitor`, then the epoch where their mean is best (`mode` min/max)."""
    folds = [_fold_record(0, first, first_report, monitor)]
    for fold in range(1, config.selection_folds):
        folder = fold_run(run, fold)
        done = folder.root / FOLD_FILE
        if done.exists():
            print(f"Fold {fold} of {config.selection_folds} finished before: {done}")
            folds.append(io.read_json(done))
            continue
        print(f"Selection fold {fold} of {config.selection_folds} (--validation_fold {fold})")
        fold_config = dataclasses.replace(
            config, validation_fold=fold, selection_folds=1, output_dir=str(folder.root)
        )
        result, report = select_fold(fold_config, folder)
        record = _fold_record(fold, result, report, monitor)
        for name in ("checkpoints", "export", "logs", "plots"):  # only the curve is needed
            shutil.rmtree(folder.root / name, ignore_errors=True)
        io.write_json(done, record)
        folds.append(record)
    epoch, mean = mean_curve_epoch([f["curve"] for f in folds], mode)
    plot_fold_curves(
        [f["curve"] for f in folds],
        [_fold_label(f) for f in folds],
        mean,
        epoch,
        monitor,
        run.plots / "selection_folds.png",
    )
    print(
        f"K-fold selection: mean {monitor} best at epoch {epoch} ({mean[epoch - 1]:.4f}); "
        f"the folds' own best epochs {[f['best_epoch'] for f in folds]}"
    )
    record = {
        "count": len(folds),
        "monitor": monitor,
        "best_epoch": epoch,
        "mean_curve": [round(v, 6) for v in mean],
        "folds": folds,
    }
    return FoldSelection(epoch, record)


def mean_curve_epoch(curves: list[list[float]], mode: str) -> tuple[int, list[float]]:
    """The 1-based epoch where the mean of `curves` is best, and that mean curve; the earliest
    of equal values.

    Early stopping ends folds at different epochs: a fold that stopped keeps its last value
    for the epochs after it (it had stopped improving), so the mean runs as long as the
    longest fold and the hardest fold, which often stops first, cannot end the search.
    """
    length = max(len(curve) for curve in curves)
    padded = [list(curve) + [curve[-1]] * (length - len(curve)) for curve in curves]
    mean = np.mean(padded, axis=0)
    best = np.argmax(mean) if mode == "max" else np.argmin(mean)
    return int(best) + 1, [float(v) for v in mean]


def _fold_record(fold: int, result: FitResult, report: dict, monitor: str) -> dict:
    """One fold's part of the record: which data validated, its curve and its own choice."""
    return {
        "fold": fold,
        "validation": report.get("validation", {}),
        "best_epoch": result.best_epoch,
        "epochs_trained": len(result.history),
        "seconds": round(result.train_seconds, 3),
        "curve": [float(r[monitor]) for r in result.history],
    }


def _fold_label(record: dict) -> str:
    """`fold 1 (george)`: the fold and the groups it validated on, if the data named them."""
    groups = record["validation"].get("validation_groups", [])
    shown = ", ".join(groups[:2]) + (", ..." if len(groups) > 2 else "")
    return f"fold {record['fold']}" + (f" ({shown})" if shown else "")


def fold_seconds(record: dict) -> float:
    """The training time of folds 1..K-1 (fold 0 is the run's own selection)."""
    return sum(f["seconds"] for f in record["folds"] if f["fold"] != 0)
