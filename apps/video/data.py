"""Video data: clips from TFDS (`ucf101`) or `<split>/<label>/<clip>` folders, and their splits.

A clip is a video file or a folder of frame images (`apps.video.decode`). Reading a clip is
left to the cache (`apps.video.cache`), which decodes each one once; here the splits are
listed, checked and split for validation without a group on both sides.
"""

import dataclasses
import hashlib
from pathlib import Path
from typing import Iterator
from typing import Optional

import numpy as np

from apps.video.config import VideoConfig
from apps.video.decode import ClipError
from apps.video.decode import decode_frames
from apps.video.decode import frame_files
from apps.video.decode import is_clip
from apps.video.decode import read_clip
from apps.video.frames import sample_indices
from shared.data import hold_out
from shared.data import label_split_folders
from shared.data import load_tfds_dataset
from shared.data import refuse_fold
from shared.data import validation_by_group
from shared.errors import UserError

SHOWN = 5  # problem files named in a warning
# UCF101 names its clips v_<Action>_g<group>_c<clip>: clips of a group are cut from one video.
GROUP_CONVENTIONS = {"UCF101": r"_g(\d+)_c\d+"}
TFDS_SPLITS = {"train": "train", "test": "test"}


@dataclasses.dataclass(frozen=True)
class ClipRecord:
    """One clip: its name, class index, and where it is (a path, or a TFDS position)."""

    name: str
    label: int
    path: Optional[Path] = None
    index: int = -1  # position in the TFDS split


@dataclasses.dataclass
class Split:
    """The clips of a split; `tfds` holds the `tfds.load` arguments when they come from TFDS."""

    records: list[ClipRecord]
    tfds: Optional[dict] = None

    def sources(self) -> Iterator[tuple[ClipRecord, str, "ClipSource"]]:
        """`(record, content key, source)` of every clip, in order; the key is the SHA-1 of
        the clip's bytes, so a renamed copy is the same clip and an edited one is not."""
        if self.tfds is None:
            for record in self.records:
                yield record, content_key(record.path), FileSource(record.path)
            return
        wanted = {record.index: record for record in self.records}
        for index, example in enumerate(_tfds_examples(self.tfds)):
            if index in wanted:
                frames = list(example["video"])
                digest = hashlib.sha1()
                for frame in frames:
                    digest.update(frame)
                yield wanted[index], digest.hexdigest(), EncodedFrames(frames)


class FileSource:
    """A clip on disk (video file or frame folder)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self, num_frames: int, frame_step: int) -> np.ndarray:
        return read_clip(self.path, num_frames, frame_step)


class EncodedFrames:
    """A clip as a list of encoded JPEG/PNG frames (TFDS videos)."""

    def __init__(self, frames: list[bytes]):
        self.frames = frames

    def read(self, num_frames: int, frame_step: int) -> np.ndarray:
        if not self.frames:
            raise ClipError("no frames")
        picked = sample_indices(len(self.frames), num_frames, frame_step)
        return decode_frames([self.frames[i] for i in picked])


ClipSource = FileSource | EncodedFrames


def content_key(path: Path) -> str:
    """SHA-1 of a video file's bytes, or of a frame folder's file names and bytes in order."""
    digest = hashlib.sha1()
    try:
        if path.is_dir():
            for file in frame_files(path):
                digest.update(file.name.encode("utf-8") + b"\0")
                digest.update(file.read_bytes())
        else:
            digest.update(path.read_bytes())
    except OSError as error:
        digest.update(f"unreadable: {error}".encode())
    return digest.hexdigest()


@dataclasses.dataclass
class VideoData:
    """The splits, the class names, and what `metrics.json` reports about the data."""

    splits: dict[str, Split]
    class_names: tuple[str, ...]
    report: dict


def load_splits(config: VideoConfig) -> VideoData:
    """Train/val/test clips from `--data_dir`, or from TFDS by default."""
    data = _folder_splits(config) if config.data_dir else _tfds_splits(config)
    for name, split in data.splits.items():
        if not split.records:
            raise UserError(f"the {name} split has no clip; add clips or change --validation_split")
    data.report["clips"] = {name: len(split.records) for name, split in data.splits.items()}
    return data


# === Folders ===


def _folder_splits(config: VideoConfig) -> VideoData:
    root = Path(config.data_dir)
    layout = "<split>/<label>/<clip>, a clip being a video file or a folder of frames"
    names, class_names = label_split_folders(root, config.class_names, layout)
    splits, ignored = {}, []
    for split in names:
        records = []
        for index, label in enumerate(class_names):
            folder = root / split / label
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if is_clip(path):
                    records.append(ClipRecord(path.name, index, path))
                elif not path.name.startswith("."):
                    ignored.append(str(path))
        splits[split] = Split(records)
    warn(
        "files that are neither a video (.mp4 .avi .mov .webm .mkv) nor a frame folder (ignored)",
        ignored,
    )
    report = {"ignored_files": len(ignored)}
    if "val" not in splits:
        records = splits["train"].records
        train, val, report["validation"] = validation_by_group(
            records,
            [record.name for record in records],
            pattern=config.group_pattern,
            conventions=GROUP_CONVENTIONS,
            fraction=config.validation_split,
            seed=config.seed,
            noun="video group",
            fold=config.validation_fold,
        )
        splits.update(train=Split(train), val=Split(val))
    else:
        refuse_fold(config, str(root / "val"))
    return VideoData(splits, tuple(class_names), report)


def warn(what: str, names: list[str]) -> None:
    """One warning line naming the first few files of a problem, and how many there are."""
    if names:
        more = f" ... and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        print(f"Warning: {what}: {len(names)}: {', '.join(names[:SHOWN])}{more}")


# === TFDS ===


def _tfds_splits(config: VideoConfig) -> VideoData:
    import tensorflow_datasets as tfds

    builder_name = config.tfds_name
    splits = {}
    for name, tfds_split in TFDS_SPLITS.items():
        source = {"name": builder_name, "split": tfds_split, "data_dir": config.tfds_data_dir}
        records = []
        for index, example in enumerate(_tfds_examples(source, labels_only=True)):
            records.append(
                ClipRecord(f"{tfds_split}_{index:05d}", int(example["label"]), None, index)
            )
        splits[name] = Split(records, tfds=source)
    info = tfds.builder(builder_name, data_dir=config.tfds_data_dir).info
    class_names = tuple(config.class_names or info.features["label"].names)
    # TFDS's ucf101 keeps no clip names, so its groups (gXX) are unknown: validation can only
    # be a random share of the training clips, with groups on both sides (said so).
    print(
        f"Validation: a random {config.validation_split:.0%} of the TFDS train split (TFDS "
        "keeps no clip names, so UCF101 groups cannot be held out whole; validation "
        "accuracy will be optimistic: use --data_dir with the named clips to hold out groups)"
    )
    train, val = hold_out(
        splits["train"].records, config.validation_split, config.seed, config.validation_fold
    )
    splits.update(train=Split(train, splits["train"].tfds), val=Split(val, splits["train"].tfds))
    report = {"validation": {"grouping": "random clips (TFDS keeps no clip names)"}}
    return VideoData(splits, class_names, report)


def _tfds_examples(source: dict, labels_only: bool = False) -> Iterator[dict]:
    """The `label` and encoded `video` frames (JPEG bytes) of each example of a TFDS split."""
    import tensorflow_datasets as tfds

    dataset = load_tfds_dataset(
        source["name"],
        split=source["split"],
        data_dir=source["data_dir"],
        shuffle_files=False,
        decoders={"video": tfds.decode.SkipDecoding()},
    )
    if labels_only:
        dataset = dataset.map(lambda example: {"label": example["label"]})
    yield from tfds.as_numpy(dataset)
