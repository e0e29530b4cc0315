"""The Task protocol: what an app supplies so that the shared runner can train and serve it.

An app implements one `Task` subclass (in `apps/<app>/task.py`); `shared.runner` owns the order
of the steps, the run directory, resume, checkpoints, curves, export and `metrics.json`. The
tuner and the benchmarks call the same methods, so no app's wiring is written twice.

The steps, in the order the runner calls them:
    load_data          raw splits (and the config with what the data decide: class names, ...)
    fit_preprocessing  what is learned from the training split only (vocabularies, statistics)
    save_preprocessing / load_preprocessing   into / from the run directory (for resume)
    make_datasets      batched training and validation data
    build_model        the compiled model, from the config and the fitted preprocessing
    after_fit          training metrics of the final model (after `--refit`, shared.refit)
    serving            the export endpoints: raw inputs in, readable outputs out
    evaluate           test metrics (and the app's plots) through the served signatures
    predict            the `predict` command's readable output
"""

import abc
import argparse
import dataclasses
from pathlib import Path
from typing import Any
from typing import Callable
from typing import ClassVar
from typing import Mapping
from typing import Optional
from typing import Sequence

import keras
import tensorflow as tf

from shared.config import BaseConfig
from shared.export import Endpoint
from shared.run_dir import RunDir


@dataclasses.dataclass
class Datasets:
    """Batched `train` and `val` datasets for `fit`, and the examples per split.

    `examples["train"]` is what one epoch trains on (it sets the steps per epoch and the
    examples/second figure); every count goes to `metrics.json` (`examples`).
    `train_and_val` is the final fit's data (`--refit`): the training and validation examples
    together, shuffled and augmented as `train` is; `examples["train_and_val"]` counts them.
    """

    train: tf.data.Dataset
    val: tf.data.Dataset
    examples: dict[str, int]
    train_and_val: Optional[tf.data.Dataset] = None


@dataclasses.dataclass
class Serving:
    """The export's endpoints by signature name, and the objects whose resources they use."""

    endpoints: dict[str, Endpoint]
    track: Sequence[Any]


@dataclasses.dataclass
class Evaluation:
    """What `Task.evaluate` works with.

    `serving` holds the export's signatures by name, called with named tensors as TF Serving
    would; metrics computed through them are the served model's. `model` and `preprocessing`
    are there only right after training (`None` when a finished run is evaluated again): use
    them for what the export cannot give, such as a second decoder or internal activations.
    """

    config: Any
    data: Any
    serving: Mapping[str, Callable[..., dict]]
    plots: Path
    model: Optional[keras.Model] = None
    preprocessing: Any = None


@dataclasses.dataclass
class Trained:
    """What `Task.after_fit` gets: the trained model and everything it was trained from."""

    model: keras.Model
    config: Any
    data: Any
    preprocessing: Any
    run: RunDir
    history: list[dict]  # one record per epoch, as in history.csv
    summary: dict  # the training part of metrics.json so far


class Task(abc.ABC):
    """One application, as the runner sees it. Subclasses set the class attributes below."""

    config_class: ClassVar[type[BaseConfig]]
    # The validation metric that early stopping and the best checkpoint follow.
    selection_metric: ClassVar[str] = "val_loss"
    selection_mode: ClassVar[str] = "min"
    # The headline test metric in `metrics.json` (a dotted path) and whether higher is better:
    # what a tuning summary compares between configurations.
    test_metric: ClassVar[str] = "accuracy"
    test_mode: ClassVar[str] = "max"
    # Keys of `metrics.json` that describe training rather than the test data: `evaluate`
    # keeps them (with the runner's own: epochs, timing) and recomputes everything else.
    training_keys: ClassVar[tuple[str, ...]] = ()
    # Config fields that what `fit_preprocessing` learns depends on: a tuning search fits the
    # preprocessing again for a trial that changes one of them (and once otherwise).
    preprocessing_fields: ClassVar[tuple[str, ...]] = ()
    # The `predict` command's positional inputs: (metavar, help).
    predict_inputs: ClassVar[tuple[str, str]] = ("INPUT", "Input file or string")

    @property
    def name(self) -> str:
        return self.config_class.APP

    # === Data and preprocessing ===

    @abc.abstractmethod
    def load_data(self, config: Any) -> tuple[Any, Any]:
        """Raw splits, checked; and `config` with the fields the data decide filled in."""

    @abc.abstractmethod
    def fit_preprocessing(self, config: Any, data: Any) -> Any:
        """What is learned from the training split only (never from validation or test)."""

    @abc.abstractmethod
    def save_preprocessing(self, preprocessing: Any, folder: Path) -> None:
        """Write `preprocessing` into the (existing, empty) `folder`."""

    @abc.abstractmethod
    def load_preprocessing(self, config: Any, folder: Path) -> Any:
        """Read back what `save_preprocessing` wrote."""

    @abc.abstractmethod
    def make_datasets(self, config: Any, data: Any, preprocessing: Any) -> Datasets:
        """Batched training (shuffled, augmented) and validation datasets."""

    # === Model ===

    @abc.abstractmethod
    def build_model(self, config: Any, preprocessing: Any, *, steps_per_epoch: int) -> keras.Model:
        """The compiled model that `fit` trains (a plain builder plus `compile`)."""

    def after_fit(self, trained: Trained) -> dict:
        """Training metrics of the final model (after the refit, if any), e.g. throughput."""
        return {}

    # === Export, evaluation, prediction ===

    @abc.abstractmethod
    def serving(self, model: keras.Model, config: Any, data: Any, preprocessing: Any) -> Serving:
        """The export's endpoints (`serving_default` at least) with sample inputs."""

    @abc.abstractmethod
    def evaluate(self, evaluation: Evaluation) -> dict:
        """Test metrics with baselines and the data report; writes the app's own plots."""

    @abc.abstractmethod
    def summary(self, metrics: dict) -> str:
        """The one-line result that `train` and `evaluate` print."""

    def add_predict_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Extra flags of the `predict` command (its inputs are already declared)."""

    @abc.abstractmethod
    def predict(
        self, serving: Mapping[str, Callable[..., dict]], config: Any, args: argparse.Namespace
    ) -> None:
        """Print readable predictions for `args.inputs` with the export's signatures."""
