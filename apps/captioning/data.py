"""Images and their captions: `<split>/images/` + `<split>/captions.tsv` folders, or TFDS.

`load_splits` returns, per split, the images with their captions (no pixels yet: images are
read by `apps.captioning.features` once, and cached). Rows naming a missing image, images with
no caption and empty captions are reported by file name and counted in `CaptionData.report`.
"""

import csv
import dataclasses
import io as _io
from pathlib import Path
from typing import Iterator
from typing import Optional

from apps.captioning.config import CaptioningConfig
from shared import io
from shared.data import file_groups
from shared.data import hold_out_groups
from shared.data import load_tfds_dataset
from shared.data import refuse_fold
from shared.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TFDS_SPLITS = {"train": "train+restval", "val": "val", "test": "test"}
SHOWN = 5  # file names listed per kind of problem before "... and N more"


@dataclasses.dataclass
class ImageRecord:
    """One image: its name (file name, or TFDS file name), captions and file path."""

    name: str
    captions: list[str]
    path: Optional[Path] = None


@dataclasses.dataclass
class Split:
    """The images of one split; `images()` streams their encoded bytes."""

    records: list[ImageRecord]
    tfds: Optional[dict] = None  # tfds.load arguments when the bytes come from TFDS

    def images(self) -> Iterator[tuple[ImageRecord, bytes]]:
        """`(record, encoded bytes)` per image, in `records` order."""
        if self.tfds is None:
            for record in self.records:
                try:
                    yield record, record.path.read_bytes()
                except OSError as error:
                    raise UserError(f"{record.path}: cannot read ({error.strerror})") from None
            return
        wanted = {r.name: r for r in self.records}
        for example in _tfds_examples(self.tfds):
            record = wanted.get(example["name"])
            if record is not None:
                yield record, example["image"]

    @property
    def num_captions(self) -> int:
        return sum(len(r.captions) for r in self.records)


@dataclasses.dataclass
class CaptionData:
    splits: dict[str, Split]
    report: dict  # per split: images, captions and the problems found


def load_splits(config: CaptioningConfig) -> CaptionData:
    """train / val / test images with captions; val is held out of train/ when absent."""
    if config.data_dir:
        splits, report = _folder_splits(Path(config.data_dir))
    else:
        splits, report = _tfds_splits(config)
    if config.max_train_images and len(splits["train"].records) > config.max_train_images:
        splits["train"].records = splits["train"].records[: config.max_train_images]
    if "val" not in splits:
        records = splits["train"].records
        # Every image is its own group unless --group_pattern names groups of images.
        names = [r.name for r in records]
        groups = file_groups(names, config.group_pattern) if config.group_pattern else names
        train, val = hold_out_groups(
            records, groups, config.validation_split, config.seed, config.validation_fold
        )
        splits["train"] = dataclasses.replace(splits["train"], records=train)
        splits["val"] = dataclasses.replace(splits["train"], records=val)
    else:
        refuse_fold(config, "the data's val split")
    for name, split in splits.items():
        if not split.records:
            raise UserError(
                f"the {name} split has no captioned image; add images or change --validation_split"
            )
        report.setdefault(name, {}).update(images=len(split.records), captions=split.num_captions)
    return CaptionData(splits, report)


# === Folders ===


def _folder_splits(root: Path) -> tuple[dict[str, Split], dict]:
    if not root.is_dir():
        raise UserError(f"--data_dir {root}: no such folder")
    splits, report = {}, {}
    for name in ("train", "val", "test"):
        folder = root / name
        if not folder.is_dir():
            if name != "val":
                raise UserError(
                    f"{folder}: missing; --data_dir needs train/ and test/ (and optionally "
                    "val/), each with images/ and captions.tsv"
                )
            continue
        splits[name], report[name] = read_folder(folder)
    return splits, report


def read_folder(folder: Path) -> tuple[Split, dict]:
    """The captioned images of `folder/images/` listed by `folder/captions.tsv`."""
    images_dir, table = folder / "images", folder / "captions.tsv"
    if not images_dir.is_dir():
        raise UserError(f"{images_dir}: missing (the split's image files go there)")
    if not table.is_file():
        raise UserError(f"{table}: missing (header image<TAB>caption, one row per caption)")
    files = {
        p.name: p
        for p in sorted(images_dir.iterdir())
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    }
    captions: dict[str, list[str]] = {}
    missing, empty = [], 0
    for line, row in _read_table(table):
        name, caption = row["image"].strip(), (row["caption"] or "").strip()
        if name not in files:
            missing.append(f"{name} (line {line})")
        elif not caption:
            empty += 1
        else:
            captions.setdefault(name, []).append(caption)
    uncaptioned = [name for name in files if name not in captions]
    warn(f"{table}: rows naming an image not in {images_dir}", missing)
    warn(f"{images_dir}: images without a caption in {table.name} (left out)", uncaptioned)
    if empty:
        print(f"Warning: {table}: {empty} empty caption(s) left out")
    records = [ImageRecord(name, captions[name], files[name]) for name in files if name in captions]
    report = {
        "missing_images": len(missing),
        "uncaptioned_images": len(uncaptioned),
        "empty_captions": empty,
    }
    return Split(records), report


def _read_table(path: Path) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(_io.StringIO(io.read_user_text(path)), delimiter="\t")
    if not reader.fieldnames or not {"image", "caption"} <= set(reader.fieldnames):
        raise UserError(
            f"{path}: the header must name the columns image and caption (tab-separated), "
            f"got {reader.fieldnames}"
        )
    for row in reader:
        yield reader.line_num, row


def warn(what: str, names: list[str]) -> None:
    """One warning line naming the first few files of a problem, and how many there are."""
    if names:
        more = f" ... and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        print(f"Warning: {what}: {len(names)}: {', '.join(names[:SHOWN])}{more}")


# === TFDS ===


def _tfds_splits(config: CaptioningConfig) -> tuple[dict[str, Split], dict]:
    splits = {}
    for name, tfds_split in TFDS_SPLITS.items():
        source = {"name": config.tfds_name, "split": tfds_split, "data_dir": config.tfds_data_dir}
        records = [
            ImageRecord(example["name"], example["captions"])
            for example in _tfds_examples(source, images=False)
            if example["captions"]
        ]
        splits[name] = Split(records, tfds=source)
    return splits, {}


def _tfds_examples(source: dict, images: bool = True) -> Iterator[dict]:
    """`name`, `captions` and (`images`) the encoded `image` bytes of each example of a TFDS
    split; listing the split leaves the image bytes in TensorFlow, never copied to Python."""
    import tensorflow_datasets as tfds

    dataset = load_tfds_dataset(
        source["name"],
        split=source["split"],
        data_dir=source["data_dir"],
        shuffle_files=False,
        decoders={"image": tfds.decode.SkipDecoding()},
    )
    if not images:
        dataset = dataset.map(lambda ex: {k: v for k, v in ex.items() if k != "image"})
    for example in tfds.as_numpy(dataset):
        captions = [c.decode("utf-8").strip() for c in example["captions"]["text"]]
        yield {
            "name": example["image/filename"].decode("utf-8"),
            "captions": [c for c in captions if c],
            "image": example.get("image"),
        }
