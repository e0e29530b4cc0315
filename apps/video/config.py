"""Configuration of the video-classification app: one flag per field."""

import dataclasses

from shared.config import CACHE_ROOT
from shared.config import RECURRENT_SPACE
from shared.config import BackboneConfig
from shared.config import BaseConfig
from shared.config import GroupedFilesConfig
from shared.config import RecurrentConfig
from shared.config import TFDSConfig
from shared.config import default
from shared.config import option

POOLINGS = ("attention", "mean")
CLIP_MEANS = ("auto", "subtract", "keep")


# The default Keras Tuner search space (tuning.space syntax; `--space` narrows it).
SEARCH_SPACE = RECURRENT_SPACE + ";frame_units=64,128,256;pooling=attention,mean"


@dataclasses.dataclass(frozen=True)
class VideoConfig(TFDSConfig, GroupedFilesConfig, BackboneConfig, RecurrentConfig):
    """Per-frame CNN features, a masked recurrent block over time, attention pooling."""

    APP = "video"
    PREDICT_INPUTS = ("CLIP", "Video file(s) or folder(s) of frame images")
    PREDICT_TOP = True
    SMALL_CNN_SIZE = 64

    output_dir: str = option("runs/video", "Run directory")
    tfds_name: str = option(
        "ucf101/ucf101_1_256",
        "TFDS video data set used without --data_dir (features: video, label; UCF101 split 1)",
    )
    class_names: tuple[str, ...] = option(
        (),
        "Class order of the probabilities (default: label folders sorted, or the TFDS label names)",
    )
    cache_dir: str = default(BackboneConfig, "cache_dir", str(CACHE_ROOT / "video"))
    # Frames.
    num_frames: int = option(
        16,
        "Frames taken per clip, spread evenly over it; shorter clips keep all their frames "
        "(padded and masked, never looped)",
        min=1,
    )
    frame_step: int = option(
        0,
        "Take every frame_step-th frame from the start instead (up to --num_frames; 0: spread)",
        min=0,
    )
    # Model.
    frame_units: int = option(128, "Size of each frame's vector fed to the recurrent block", min=1)
    frame_dropout: float = option(
        0.2, "Dropout on the frame vectors before the recurrent block", min=0.0, max=0.95
    )
    clip_mean: str = option(
        "auto",
        "subtract: each frame (or frame feature) minus its clip's mean, so that only what "
        "changes remains; keep: frames as they are; auto: subtract for the small CNN of "
        "--backbone_weights none (it would learn backgrounds), keep for pretrained features",
        choices=CLIP_MEANS,
    )
    pooling: str = option("attention", "How the recurrent outputs pool over time", choices=POOLINGS)
    attention_units: int = option(64, "Hidden size of the attention pooling scores", min=1)
    head_dropout: float = option(0.3, "Dropout before the softmax layer", min=0.0, max=0.95)
    cell: str = default(RecurrentConfig, "cell", "gru")
    num_layers: int = default(RecurrentConfig, "num_layers", 2)
    # Training loop.
    batch_size: int = default(BaseConfig, "batch_size", 16, "Clips per batch")
    epochs: int = default(BaseConfig, "epochs", 30)
    patience: int = default(BaseConfig, "patience", 5)
    validation_split: float = default(
        TFDSConfig,
        "validation_split",
        0.15,
        "Fraction of train/ clips used for validation when the data has no val/ split (whole "
        "groups: UCF101 gXX names are recognized, or give --group_pattern)",
    )

    @property
    def subtracts_clip_mean(self) -> bool:
        """Whether the model subtracts each clip's mean frame (see `--clip_mean`)."""
        if self.clip_mean == "auto":
            return not self.pretrained
        return self.clip_mean == "subtract"
