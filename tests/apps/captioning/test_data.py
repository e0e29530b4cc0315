"""Folders and TFDS: every caption kept, problems named and counted, validation by image."""

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from apps.captioning.config import CaptioningConfig
from apps.captioning.data import load_splits
from shared.errors import UserError
from tests.apps.captioning.conftest import png_bytes
from tests.apps.captioning.conftest import small_shapes


def test_folders_keep_every_caption_and_hold_out_whole_images(tmp_path):
    data = load_splits(CaptioningConfig(data_dir=str(small_shapes(tmp_path, train=40)), seed=3))
    train, val = data.splits["train"].records, data.splits["val"].records
    assert len(train) == 36 and len(val) == 4
    assert not {r.name for r in train} & {r.name for r in val}
    two_shapes = [r for r in train if " of " in r.captions[0] or "above" in r.captions[0]]
    assert two_shapes and all(len(r.captions) == 2 for r in two_shapes)
    assert data.report["train"]["captions"] == sum(len(r.captions) for r in train)
    assert data.splits["test"].num_captions >= 8
    record, encoded = next(data.splits["test"].images())
    assert encoded == record.path.read_bytes()


def test_group_pattern_keeps_groups_of_images_on_one_side(tmp_path):
    root = small_shapes(tmp_path, train=30)
    pattern = r"^train_000(\d)"  # groups of ten images: 0-9, 10-19, 20-29
    data = load_splits(CaptioningConfig(data_dir=str(root), group_pattern=pattern))
    group = lambda split: {r.name[9] for r in data.splits[split].records}  # noqa: E731
    assert len(group("val")) == 1 and not group("train") & group("val")


def test_missing_images_uncaptioned_images_and_empty_captions_are_named_and_counted(
    tmp_path, capsys
):
    root = small_shapes(tmp_path, train=10, test=3)
    (root / "train" / "images" / "extra.png").write_bytes(png_bytes())
    with open(root / "train" / "captions.tsv", "a", encoding="utf-8") as f:
        f.write("ghost.jpg\ta caption of nothing\ntrain_00001.png\t  \n")
    data = load_splits(CaptioningConfig(data_dir=str(root)))
    report = data.report["train"]
    assert report["missing_images"] == 1 and report["uncaptioned_images"] == 1
    assert report["empty_captions"] == 1
    out = capsys.readouterr().out
    assert "ghost.jpg (line" in out and "extra.png" in out
    names = {r.name for s in ("train", "val") for r in data.splits[s].records}
    assert "extra.png" not in names and len(names) == 10


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda root: (root / "test").rename(root / "other"), "test: missing"),
        (lambda root: (root / "train" / "captions.tsv").write_text("file\ttext\n"), "header"),
        (lambda root: (root / "train" / "captions.tsv").unlink(), "captions.tsv: missing"),
    ],
)
def test_bad_layouts_name_the_file(tmp_path, change, message):
    root = small_shapes(tmp_path, train=6, test=2)
    change(root)
    with pytest.raises(UserError, match=message):
        load_splits(CaptioningConfig(data_dir=str(root)))


def test_tfds_coco_captions_path(tmp_path):
    """The default data path under `tfds.testing.mock_data` (its own random examples cannot
    build coco_captions' nested captions, so the test gives the examples)."""
    seen = {}

    def as_dataset(self, split, decoders=None, **kwargs):
        seen[str(split)] = decoders
        names = [f"{split}_{i}.jpg".replace("+", "_") for i in range(3)]
        return tf.data.Dataset.from_tensor_slices(
            {
                "image": [png_bytes(i) for i in range(3)],
                "image/filename": names,
                "captions": {"text": [["A cat.", "A small cat."], ["A dog.", ""], ["", ""]]},
            }
        )

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = load_splits(CaptioningConfig())
        test = list(data.splits["test"].images())
    assert sorted(seen) == ["test", "train+restval", "val"]
    assert len(data.splits["train"].records) == 2  # the image without captions is left out
    assert data.splits["train"].records[1].captions == ["A dog."]
    assert [r.name for r, _ in test] == ["test_0.jpg", "test_1.jpg"]
    assert test[0][1] == png_bytes(0)
