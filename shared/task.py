"""The Task protocol: what an app supplies so that the shared runner can train and serve it.

An app implements one `Task` subclass (in `apps/<app>/task.py`); `shared.runner` owns the order
of the steps, the run directory, resume, checkpoints, curves, export and `metrics.json`. The
tuner and the benchmarks call the same methods, so no app's wiring is written twice.

The steps, in the order the runner calls them:
    load_data          raw splits (and the config with what the data decide: class names, ...)
    fit_preprocessing  the preprocessor layer, fitted on the training split only
    make_datasets      batched training and validation data, through that preprocessor
    build_model        the compiled `shared.pipeline.Pipeline`: the network, owning the
                       preprocessor, so `checkpoints/best.keras` predicts from raw inputs
    serving            the export endpoints (from the model alone): raw in, readable out
    evaluate           test metrics (and the app's plots) through the served signatures
    summary            the one-line result
    predict            the `predict` command's readable output
Optional: `describe_training` (figures of the trained model for `metrics.json`, such as
throughput in the app's own units). The `predict` command's inputs are declared by the
config class (`PREDICT_INPUTS`, `PREDICT_TOP`): flags are parsed before TensorFlow loads.

Resume needs nothing from the app: the runner saves the freshly built model (preprocessor
included) once, and an interrupted run takes its preprocessor from there.
"""

import abc
import argparse
import dataclasses
from pathlib import Path
from typing import Any
from typing import Callable
from typing import ClassVar
from typing import Generic
from typing import Mapping
from typing import Optional
from typing import Sequence
from typing import TypeVar

import keras
import tensorflow as tf

from shared.config import BaseConfig
from shared.export import Endpoint
from shared.pipeline import Pipeline
from shared.run_dir import RunDir

ConfigT = TypeVar("ConfigT", bound=BaseConfig)  # the app's config dataclass
DataT = TypeVar("DataT")  # the app's loaded splits (its own dataclass)
PreprocessorT = TypeVar("PreprocessorT", bound=Optional[keras.layers.Layer])


@dataclasses.dataclass
class Datasets:
    """Batched `train` and `val` datasets for `fit`, and the examples per split.

    `examples["train"]` is what one epoch trains on (it sets the steps per epoch and the
    examples/second figure); every count goes to `metrics.json` (`examples`).
    `train_and_val` is the final fit's data (`--refit`): the training and validation examples
    together, shuffled and augmented as `train` is; `examples["train_and_val"]` counts them.
    `report` is what reading the data found (skipped files, dropped examples, lengths): it
    becomes `data` in `metrics.json`. Under `--strategy multi_worker` the datasets read only
    this worker's share of the examples (`shared.sharding.InputShard`) and `examples`
    counts that share; the runner adds up every worker's.
    """

    train: tf.data.Dataset
    val: tf.data.Dataset
    examples: dict[str, int]
    train_and_val: Optional[tf.data.Dataset] = None
    report: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Serving:
    """The export's endpoints by signature name, and the objects whose resources they use."""

    endpoints: dict[str, Endpoint]
    track: Sequence[Any]


@dataclasses.dataclass
class Evaluation(Generic[ConfigT, DataT]):
    """What `Task.evaluate` works with.

    `serving` holds the export's signatures by name, called with named tensors as TF Serving
    would; metrics computed through them are the served model's. `model` is the same model
    as a Keras `Pipeline` (`checkpoints/best.keras`), for what the export does not return,
    such as a second decoder or internal activations.
    """

    config: ConfigT
    data: DataT
    serving: Mapping[str, Callable[..., dict]]
    plots: Path
    model: keras.Model


@dataclasses.dataclass
class Trained(Generic[ConfigT, DataT]):
    """What `Task.describe_training` gets: the trained model and what it was trained from."""

    model: Pipeline
    config: ConfigT
    data: DataT
    run: RunDir
    history: list[dict]  # one record per epoch, as in history.csv
    summary: dict  # the training part of metrics.json so far


class Task(abc.ABC, Generic[ConfigT, DataT, PreprocessorT]):
    """One application, as the runner sees it: `Task[<App>Config, <its data>, <its
    preprocessor layer>]`. Subclasses set the class attributes below."""

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
    # preprocessor again for a trial that changes one of them (and once otherwise).
    preprocessing_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def name(self) -> str:
        return self.config_class.APP

    # === Data and preprocessing ===

    @abc.abstractmethod
    def load_data(self, config: ConfigT) -> tuple[DataT, ConfigT]:
        """Raw splits, checked; and `config` with the fields the data decide filled in."""

    @abc.abstractmethod
    def fit_preprocessing(self, config: ConfigT, data: DataT) -> PreprocessorT:
        """The preprocessor layer (raw inputs -> the network's inputs), fitted on the training
        split only (never on validation or test); `None` if the network takes raw inputs."""

    @abc.abstractmethod
    def make_datasets(self, config: ConfigT, data: DataT, preprocessor: PreprocessorT) -> Datasets:
        """Batched training (shuffled, augmented) and validation datasets."""

    # === Model ===

    @abc.abstractmethod
    def build_model(
        self, config: ConfigT, preprocessor: PreprocessorT, *, steps_per_epoch: int
    ) -> Pipeline:
        """The compiled `Pipeline` that `fit` trains (a plain builder, wrapped, compiled)."""

    def describe_training(self, trained: Trained[ConfigT, DataT]) -> dict:
        """Figures of the trained (final) model for `metrics.json`, e.g. throughput."""
        return {}

    # === Export, evaluation, prediction ===

    @abc.abstractmethod
    def serving(self, model: Pipeline, config: ConfigT, data: DataT) -> Serving:
        """The export's endpoints (`serving_default` at least) with sample inputs."""

    @abc.abstractmethod
    def evaluate(self, evaluation: Evaluation[ConfigT, DataT]) -> dict:
        """Test metrics with baselines and the data report; writes the app's own plots."""

    @abc.abstractmethod
    def summary(self, metrics: dict) -> str:
        """The one-line result that `train` and `evaluate` print."""

    @abc.abstractmethod
    def predict(
        self, serving: Mapping[str, Callable[..., dict]], config: ConfigT, args: argparse.Namespace
    ) -> None:
        """Print readable predictions for `args.inputs` with the export's signatures."""
