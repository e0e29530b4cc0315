"""Config fields shared by every app, and declarative validation.

Each app declares one frozen dataclass that subclasses `BaseConfig`. Fields are made with
`option(...)`, which records the help text, the allowed choices and numeric bounds; the CLI
(`shared.cli`) reads the same metadata, so help, validation and errors come from one place.
"""

import dataclasses
import json
import os
import typing
from pathlib import Path
from typing import Any
from typing import ClassVar
from typing import Optional

CELLS = ("lstm", "gru", "simple_rnn")
MERGE_MODES = ("concat", "sum", "mul", "ave")
INITIALIZERS = ("glorot_uniform", "he_normal", "orthogonal")
ACTIVATIONS = ("tanh", "relu")
REFITS = ("none", "scratch", "fine_tune")
ATTENTIONS = ("bahdanau", "luong")
DECODER_CELLS = ("gru", "lstm")
DECODERS = ("parallel", "stepwise")


def option(
    default: Any,
    help: str,
    *,
    choices: Optional[tuple] = None,
    min: Optional[float] = None,
    max: Optional[float] = None,
    min_exclusive: bool = False,
) -> Any:
    """A dataclass field with CLI help, allowed choices and numeric bounds."""
    metadata = {
        "help": help,
        "choices": choices,
        "min": min,
        "max": max,
        "min_exclusive": min_exclusive,
    }
    return dataclasses.field(default=default, metadata=metadata)


def default(base: type, name: str, value: Any, help: Optional[str] = None) -> Any:
    """The field `name` of the config class `base` with another default (and help text).

    Apps change a shared field's default this way, so its help, choices and bounds are
    written once, in the class that declares it.
    """
    field = base.__dataclass_fields__[name]
    metadata = dict(field.metadata)
    if help is not None:
        metadata["help"] = help
    return dataclasses.field(default=value, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class BaseConfig:
    """Fields common to every app: data source, run directory and training loop."""

    # The app whose config this is: written into config.json, checked when one is read back.
    APP: ClassVar[str] = ""
    # The `predict` command's positional inputs (metavar, help), and whether it takes `--top`.
    PREDICT_INPUTS: ClassVar[tuple[str, str]] = ("INPUT", "Input file or string")
    PREDICT_TOP: ClassVar[bool] = False

    # Data and run directory.
    data_dir: Optional[str] = option(
        None, "Folder with your own data (see CONTRACT.md); default: the app's standard data set"
    )
    output_dir: str = option("runs/default", "Run directory for checkpoints, logs, plots, export")
    # Training loop.
    seed: int = option(1337, "Random seed for weights, shuffling and the validation split")
    batch_size: int = option(32, "Examples per batch", min=1)
    epochs: int = option(20, "Maximum number of epochs", min=1)
    learning_rate: float = option(1e-3, "Adam learning rate", min=0.0, min_exclusive=True)
    clipnorm: float = option(1.0, "Gradient clipping by norm (0 disables)", min=0.0)
    ema_momentum: float = option(
        0.0,
        "Keep an exponential moving average of the weights with this momentum per step "
        "(e.g. 0.99); validation, checkpoints and the export use the average (0: off)",
        min=0.0,
        max=0.9999,
    )
    patience: int = option(3, "Early stopping: epochs without validation improvement", min=1)
    mixed_precision: bool = option(
        False,
        "Compute the network in float16 on a GPU (with loss scaling) or bfloat16 elsewhere; "
        "weights, inputs, attention softmaxes, outputs, losses and metrics stay float32",
    )
    # The final fit after model selection (shared.refit).
    refit: str = option(
        "none",
        "After early stopping has chosen the epoch on the validation data, train the model "
        "that is exported on train+val: scratch (a new model, same seed and schedule, for the "
        "chosen number of epochs), fine_tune (the chosen model, --finetune_epochs more epochs "
        "at a tenth of the learning rate) or none (export the chosen model)",
        choices=REFITS,
    )
    scale_refit_epochs: bool = option(
        False,
        "--refit scratch trains the selected epoch count times (train+val)/train examples "
        "instead of the selected count itself (more, and more varied, data overfits later)",
    )
    finetune_epochs: int = option(
        2, "Epochs on train+val of --refit fine_tune, at a tenth of the learning rate", min=1
    )
    # Scale-out (shared.distribute).
    strategy: str = option(
        "default",
        "tf.distribute strategy: default (one device), mirrored (--devices of this machine), "
        "multi_worker (the cluster in TF_CONFIG; only the chief writes the run directory)",
        choices=("default", "mirrored", "multi_worker"),
    )
    devices: tuple[str, ...] = option(
        (), "Devices of --strategy mirrored, e.g. GPU:0,GPU:1 or CPU:0,CPU:1 (default: all GPUs)"
    )
    scale_learning_rate: bool = option(
        False, "Multiply --learning_rate by the replicas (--batch_size is per replica)"
    )

    def __post_init__(self):
        validate_fields(self)

    def to_json(self) -> str:
        values = {**({"app": self.APP} if self.APP else {}), **dataclasses.asdict(self)}
        return json.dumps(values, indent=2, sort_keys=True) + "\n"


# The fields of `shared.layers.RecurrentStack`, in the order of its arguments.
RECURRENT_FIELDS = (
    "cell",
    "units",
    "num_layers",
    "bidirectional",
    "merge_mode",
    "dropout",
    "recurrent_dropout",
    "l2",
    "kernel_initializer",
    "recurrent_initializer",
    "activation",
)


# The default search space of the recurrent block and the training loop (`tuning.space`
# syntax); apps add their own dimensions to it in `SEARCH_SPACE` next to their config.
RECURRENT_SPACE = (
    "cell=lstm,gru;units=32,64,128;num_layers=1,2;bidirectional=true,false;"
    "dropout=0.0..0.5;recurrent_dropout=0.0,0.2;l2=0.0,1e-5,1e-4;"
    "learning_rate=1e-4..1e-2:log;batch_size=32,64"
)


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(BaseConfig):
    """`BaseConfig` plus the recurrent block (`shared.layers.RecurrentStack`) of the app's model.

    An app whose model has no `RecurrentStack` (or only in one half) subclasses `BaseConfig`
    instead and declares the fields its own recurrent part reads, so no flag does nothing.
    """

    cell: str = option("lstm", "Recurrent cell", choices=CELLS)
    units: int = option(64, "Units per recurrent layer (per direction)", min=1)
    num_layers: int = option(1, "Stacked recurrent layers", min=1)
    bidirectional: bool = option(True, "Run each recurrent layer in both directions")
    merge_mode: str = option("concat", "How bidirectional outputs merge", choices=MERGE_MODES)
    dropout: float = option(0.0, "Dropout on recurrent-layer inputs", min=0.0, max=0.95)
    recurrent_dropout: float = option(
        0.0, "Dropout on recurrent state (slower: no fused kernel)", min=0.0, max=0.95
    )
    l2: float = option(0.0, "L2 penalty on input and recurrent kernels", min=0.0)
    kernel_initializer: str = option(
        "glorot_uniform", "Input-kernel initializer", choices=INITIALIZERS
    )
    recurrent_initializer: str = option(
        "orthogonal", "Recurrent-kernel initializer", choices=INITIALIZERS
    )
    activation: str = option("tanh", "Recurrent activation", choices=ACTIVATIONS)

    def recurrent_kwargs(self) -> dict:
        """The arguments of `shared.layers.RecurrentStack` taken from this config."""
        return {name: getattr(self, name) for name in RECURRENT_FIELDS}


@dataclasses.dataclass(frozen=True)
class TFDSConfig(BaseConfig):
    """`BaseConfig` for apps whose standard data come from TFDS and whose folders may lack val/."""

    tfds_data_dir: Optional[str] = option(None, "TFDS cache folder (default: TFDS's own)")
    validation_split: float = option(
        0.1,
        "Fraction of train/ used for validation when the data has no val/ split",
        min=0.0,
        max=0.5,
        min_exclusive=True,
    )


@dataclasses.dataclass(frozen=True)
class GroupedFilesConfig(BaseConfig):
    """`BaseConfig` for apps that read one file per example, whose names may name a group."""

    group_pattern: str = option(
        "",
        "Regular expression over file names whose first capture group names a group (a "
        "speaker, a UCF101 gXX): without val/, validation holds whole groups, never one that "
        "also trains ('' : the app's default grouping)",
    )
    validation_fold: int = option(
        0,
        "Which of the disjoint validation sets held out of train/ validates: 0 the default, "
        "k the k-th further set of whole groups along the same seeded order",
        min=0,
    )
    selection_folds: int = option(
        1,
        "K-fold selection (with --refit scratch): K selection runs, fold k validating on "
        "--validation_fold k; the final fit trains for the epoch where the mean of their "
        "validation curves is best (1: one selection run)",
        min=1,
    )

    def __post_init__(self):
        super().__post_init__()
        if self.selection_folds > 1 and self.refit != "scratch":
            raise ValueError(
                f"--selection_folds {self.selection_folds} chooses the epoch count of the final "
                f"fit: it needs --refit scratch (got --refit {self.refit})"
            )
        if self.selection_folds > 1 and self.validation_fold:
            raise ValueError("--selection_folds runs every fold itself: leave --validation_fold 0")
        if self.selection_folds > 1 and self.strategy == "multi_worker":
            raise ValueError("--selection_folds runs on one machine, not --strategy multi_worker")


@dataclasses.dataclass(frozen=True)
class DecoderConfig(BaseConfig):
    """`BaseConfig` for apps that generate text with `shared.layers.AttentionDecoder`."""

    decoder: str = option(
        "parallel",
        "Teacher forcing: parallel (the recurrent layer over the whole target at once, the "
        "cuDNN kernel on a GPU; attention after it) or stepwise (token by token in a loop; "
        "Bahdanau order and input feeding possible)",
        choices=DECODERS,
    )
    attention: str = option(
        "luong", "Attention: additive (bahdanau) or multiplicative (luong)", choices=ATTENTIONS
    )
    attention_units: int = option(256, "Hidden size of additive attention scores", min=1)
    input_feeding: bool = option(
        False,
        "Feed the previous attentional vector into the next decoder step (--decoder stepwise)",
    )
    context_layer: bool = option(
        False,
        "A second recurrent layer over the decoder states and their attention contexts "
        "(--decoder parallel): it remembers what earlier steps attended to",
    )

    def __post_init__(self):
        super().__post_init__()
        if self.decoder == "parallel" and self.input_feeding:
            raise ValueError(
                "--input_feeding feeds each step's output into the next, which a parallel "
                "decoder cannot: pass --decoder stepwise or --no-input_feeding"
            )
        if self.decoder == "stepwise" and self.context_layer:
            raise ValueError("--context_layer needs --decoder parallel")

    def decoder_kwargs(self) -> dict:
        """The arguments of `shared.layers.AttentionDecoder` taken from this config."""
        return dict(
            attention=self.attention,
            attention_units=self.attention_units,
            input_feeding=self.input_feeding,
            parallel=self.decoder == "parallel",
            context_layer=self.context_layer,
        )


# keras.applications backbones of the apps that read images (see shared.backbones).
BACKBONES = ("efficientnetb0", "mobilenetv3small", "inceptionv3")

# Where decoded clips, token ids and image features are kept between runs: each app's
# --cache_dir defaults to a folder here (the tests point it at a temporary folder).
CACHE_ROOT = Path(os.environ.get("RNN_SUITE_CACHE") or Path.home() / ".cache" / "rnn-suite")


@dataclasses.dataclass(frozen=True)
class CacheConfig(BaseConfig):
    """`BaseConfig` for apps that keep what they compute from each example on disk."""

    cache_dir: str = option(
        str(CACHE_ROOT),
        "Where what is computed once per example (decoded clips, token ids, image features) "
        "is kept, keyed by content and by every setting the values depend on",
    )


@dataclasses.dataclass(frozen=True)
class BackboneConfig(CacheConfig):
    """`BaseConfig` for apps that encode images with a CNN (`shared.backbones`)."""

    # Input side of the small CNN trained end to end with --backbone_weights none.
    SMALL_CNN_SIZE: ClassVar[int] = 128

    backbone: str = option("efficientnetb0", "keras.applications image backbone", choices=BACKBONES)
    backbone_weights: str = option(
        "imagenet",
        "imagenet (downloaded on first use; the backbone is frozen and its features cached), "
        "none (a small CNN is trained end to end instead), or the path of a weights file",
    )
    image_size: int = option(
        0,
        "Square input side in pixels (0: the backbone's own, or the app's default for the "
        "small CNN of --backbone_weights none)",
        min=0,
    )

    @property
    def pretrained(self) -> bool:
        """Whether a frozen pretrained backbone encodes the images (else the small CNN)."""
        return self.backbone_weights != "none"

    @property
    def input_size(self) -> int:
        """The square side images are resized to."""
        if self.image_size:
            return self.image_size
        if not self.pretrained:
            return self.SMALL_CNN_SIZE
        return 299 if self.backbone == "inceptionv3" else 224


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type annotations of a config dataclass, by field name."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def validate_fields(config: Any) -> None:
    """Check every field against its declared choices and bounds; `ValueError` names the flag."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        meta = f.metadata
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if meta.get("choices") and item not in meta["choices"]:
                allowed = ", ".join(map(str, meta["choices"]))
                raise ValueError(f"--{f.name}: invalid value {item!r} (choose from {allowed})")
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                continue
            low, high = meta.get("min"), meta.get("max")
            if low is not None and (item < low or (meta.get("min_exclusive") and item == low)):
                relation = ">" if meta.get("min_exclusive") else ">="
                raise ValueError(f"--{f.name}: must be {relation} {low}, got {item}")
            if high is not None and item > high:
                raise ValueError(f"--{f.name}: must be <= {high}, got {item}")


def load_config_file(cls: type, path: str) -> dict[str, Any]:
    """Read a `config.json`; unknown keys are an error (a typo must not be silently ignored)."""
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"--config: cannot read {path}: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"--config: {path} must hold a JSON object")
    app, expected = values.pop("app", None), getattr(cls, "APP", "")
    if app and expected and app != expected:
        raise ValueError(
            f"{path} is the config of a {app} run, not {expected}; "
            f"use python -m apps.{app}.<command>"
        )
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"--config: unknown field(s) in {path}: {', '.join(unknown)}")
    types = field_types(cls)
    return {
        name: tuple(v) if isinstance(v, list) and _is_tuple(types[name]) else v
        for name, v in values.items()
    }


def _is_tuple(annotation: Any) -> bool:
    return typing.get_origin(annotation) is tuple
