"""K-fold selection over groups (`--selection_folds`): the toy of `test_runner` in groups."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from shared.callbacks import TrainingState
from shared.cli import command
from shared.config import GroupedFilesConfig
from shared.data import hold_out_groups
from shared.folds import mean_curve_epoch
from shared.runner import train_command
from tests.shared.test_runner import EVENTS
from tests.shared.test_runner import RefitToyTask
from tests.shared.test_runner import ToyConfig
from tests.shared.test_runner import read_metrics

GROUP_SIZE = 64  # five groups of training points; validation holds one (20%)


@dataclasses.dataclass(frozen=True)
class FoldToyConfig(ToyConfig, GroupedFilesConfig):
    pass


def toy_split(config) -> dict[str, np.ndarray]:
    """The toy's 320 training points in five groups, and 64 test points."""
    rng = np.random.default_rng(config.seed)
    points = rng.normal(3.0, config.scale, size=(5 * GROUP_SIZE + 64, 2)).astype("float32")
    labels = (points.sum(axis=1) > 6.0).astype("int64")
    return {"points": points, "labels": labels}


class GroupedSplits(dict):
    """The toy's datasets by split, and the groups that validate."""

    groups: list[str] = []


class FoldToyTask(RefitToyTask):
    """The logged toy whose validation holds whole groups, fold by `--validation_fold`."""

    config_class = FoldToyConfig

    def load_data(self, config):
        arrays = toy_split(config)
        train_index = list(range(5 * GROUP_SIZE))
        groups = [f"g{i // GROUP_SIZE}" for i in train_index]
        train, val = hold_out_groups(train_index, groups, 0.2, config.seed, config.validation_fold)
        test = list(range(5 * GROUP_SIZE, len(arrays["labels"])))
        data = GroupedSplits(
            (name, tf.data.Dataset.from_tensor_slices((arrays["points"][i], arrays["labels"][i])))
            for name, i in (("train", train), ("val", val), ("test", test))
        )
        data.groups = sorted({groups[i] for i in val})
        return data, config

    def make_datasets(self, config, data, preprocessor):
        datasets = super().make_datasets(config, data, preprocessor)
        datasets.report = {"validation": {"validation_groups": data.groups}}
        return datasets


@command
def train_folds(argv=None):
    return train_command(FoldToyTask(), argv, "Train the grouped toy with k-fold selection")


def points(config=FoldToyConfig(), part=slice(None)) -> list[float]:
    return sorted(round(float(v), 5) for v in toy_split(config)["points"][part, 0])


ARGV = ["--refit", "scratch", "--selection_folds", "3", "--patience", "10", "--epochs", "4"]


def test_k_fold_selection_validates_each_fold_on_other_groups_and_refits_on_all(tmp_path):
    run_dir = tmp_path / "run"
    EVENTS.clear()
    assert train_folds(["--output_dir", str(run_dir), *ARGV]) == 0
    metrics = read_metrics(run_dir)
    folds = metrics["refit"]["folds"]
    assert folds["count"] == 3 and [f["fold"] for f in folds["folds"]] == [0, 1, 2]
    held = [tuple(f["validation"]["validation_groups"]) for f in folds["folds"]]
    assert len(set(held)) == 3 and all(len(groups) == 1 for groups in held)  # disjoint
    # The final fit trains for the epoch where the mean of the folds' curves is best.
    curves = [f["curve"] for f in folds["folds"]]
    assert all(len(curve) == 4 for curve in curves)
    assert folds["best_epoch"] == 1 + int(np.argmin(np.mean(curves, axis=0)))
    assert metrics["refit"]["epochs"] == folds["best_epoch"]
    # Each fold validated on its own groups only; the final fit saw all 320 points per epoch.
    train_points = points(part=slice(0, 5 * GROUP_SIZE))
    validated = [v for phase, v in EVENTS if phase == "val"]
    assert sorted(set(validated)) != train_points and len(validated) == 3 * 4 * GROUP_SIZE
    final = sorted(v for phase, v in EVENTS if phase == "final")
    assert final == sorted(train_points * metrics["refit"]["epochs"])
    # Nothing trained or validated on a test point; the folds' state is gone, their plot kept.
    test_points = set(points(part=slice(5 * GROUP_SIZE, None)))
    assert not test_points & {v for phase, v in EVENTS if phase != "evaluate"}
    assert (run_dir / "plots" / "selection_folds.png").stat().st_size > 0
    assert not (run_dir / "checkpoints" / "resume").exists()
    assert metrics["train_seconds"] > metrics["refit"]["seconds"] + sum(
        f["seconds"] for f in folds["folds"][1:]
    )


def test_a_run_interrupted_in_a_fold_resumes_inside_that_fold(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    argv = ["--output_dir", str(run_dir), *ARGV]
    original = TrainingState.on_epoch_begin

    def interrupt_in_fold_2(self, epoch, logs=None):
        if epoch == 2 and self.state_dir.parts[-3:-2] == ("2",):  # folds/2/checkpoints/resume
            raise KeyboardInterrupt
        original(self, epoch, logs)

    monkeypatch.setattr(TrainingState, "on_epoch_begin", interrupt_in_fold_2)
    assert train_folds(argv) == 130
    monkeypatch.setattr(TrainingState, "on_epoch_begin", original)
    capsys.readouterr()
    EVENTS.clear()

    assert train_folds(argv) == 0
    out = capsys.readouterr().out
    assert "Fold 1 of 3 finished before" in out and "Selection fold 2 of 3" in out
    # Fold 0 (the run's own selection) and fold 1 were not trained again; fold 2 resumed.
    trained = [v for phase, v in EVENTS if phase == "train"]
    assert len(trained) == 2 * 256  # fold 2's epochs 3 and 4
    assert read_metrics(run_dir)["refit"]["folds"]["count"] == 3


def test_mean_curve_epoch_carries_a_stopped_fold_at_its_last_value():
    curves = [[0.5, 0.4, 0.45, 0.5], [0.6, 0.5, 0.3], [0.7, 0.2, 0.4, 0.1, 0.05]]
    epoch, mean = mean_curve_epoch(curves, "min")
    # Epoch 5: (0.5 + 0.3 + 0.05) / 3, the first two folds at their last values.
    assert len(mean) == 5 and epoch == 5 and mean[4] == pytest.approx(0.85 / 3)
    # A fold that stopped early (at its worst) does not end the search for the others.
    epoch, mean = mean_curve_epoch([[0.1, 0.2], [0.1, 0.5, 0.6, 0.9]], "max")
    assert epoch == 4 and mean == pytest.approx([0.1, 0.35, 0.4, 0.55])
    assert mean_curve_epoch([[0.3, 0.3], [0.3, 0.3]], "max")[0] == 1  # the earliest of equals


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--selection_folds", "3"], "needs --refit scratch"),
        (["--refit", "scratch", "--selection_folds", "3", "--validation_fold", "1"], "leave"),
    ],
)
def test_fold_flags_that_contradict_each_other_are_usage_errors(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit:
        train_folds(["--output_dir", str(tmp_path / "run"), *flags])
    assert exit.value.code == 2 and message in capsys.readouterr().err


def test_more_folds_than_the_groups_make_are_refused_before_training(tmp_path, capsys):
    argv = ["--output_dir", str(tmp_path / "run"), "--refit", "scratch", "--selection_folds", "9"]
    assert train_folds(argv) == 1
    assert "only 5 disjoint validation fold(s)" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
