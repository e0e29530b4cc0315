"""Generated video data for the tests: motion clips, odd files, small flags."""

from pathlib import Path

from tests.apps.video.motion import write_motion

# Flags that make a run take seconds: small frames, model and batches.
TINY_FLAGS = [
    "--backbone_weights",
    "none",
    "--image_size",
    "32",
    "--num_frames",
    "8",
    "--units",
    "16",
    "--frame_units",
    "32",
    "--attention_units",
    "16",
    "--num_layers",
    "1",
    "--batch_size",
    "8",
    "--epochs",
    "1",
]


def small_motion(root: Path, train: int = 4, test: int = 2, **kwargs) -> Path:
    """Left/right clips: `train` and `test` per class, short and small."""
    return write_motion(
        root,
        {"train": train, "test": test},
        classes=("left", "right"),
        group_size=2,
        frames=(6, 10),
        **kwargs,
    )
