"""Video splits: folders, groups held out whole, TFDS under mock_data, the clip cache."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from apps.video.cache import ClipCache
from apps.video.config import VideoConfig
from apps.video.data import load_splits
from shared.errors import UserError
from tests.apps.video.conftest import small_motion

FLAGS = dict(backbone_weights="none", image_size=16, num_frames=4)


def test_folder_splits_hold_out_whole_ucf101_groups(tmp_path, capsys):
    root = small_motion(tmp_path / "data", train=8, test=2)
    (root / "train" / "left" / "README.txt").write_text("not a clip")
    data = load_splits(VideoConfig(data_dir=str(root), validation_split=0.25, **FLAGS))
    group = lambda name: name.split("_")[2]  # noqa: E731
    train = {group(r.name) for r in data.splits["train"].records}
    val = {group(r.name) for r in data.splits["val"].records}
    assert val and train and not train & val
    # UCF101 numbers groups per class: a held-out group number leaves every class.
    assert {r.label for r in data.splits["val"].records} == {0, 1}
    assert data.report["validation"]["grouping"] == "UCF101 file names"
    assert data.report["ignored_files"] == 1
    assert data.class_names == ("left", "right")
    assert data.report["clips"] == {"train": 12, "test": 4, "val": 4}
    assert "README.txt" in capsys.readouterr().out


def test_a_group_pattern_names_the_groups(tmp_path):
    root = small_motion(tmp_path / "data", train=8, test=2)
    config = VideoConfig(data_dir=str(root), group_pattern=r"_(c\d+)", **FLAGS)
    data = load_splits(config)
    clips = {r.name.split("_")[3] for r in data.splits["val"].records}
    assert clips and not clips & {r.name.split("_")[3] for r in data.splits["train"].records}


@pytest.mark.parametrize(
    "remove,message",
    [("test", "missing the test/ folder"), ("train/right", "need at least 2")],
)
def test_bad_layouts_are_named(tmp_path, remove, message):
    root = small_motion(tmp_path / "data")
    for path in sorted((root / remove).rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / remove).rmdir()
    with pytest.raises(UserError, match=message):
        load_splits(VideoConfig(data_dir=str(root), **FLAGS))


def test_the_cache_skips_unreadable_clips_and_is_reused_by_a_second_run(tmp_path, capsys):
    root = small_motion(tmp_path / "data", train=4, test=2)
    (root / "test" / "left" / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"x" * 99)
    (root / "test" / "left" / "empty_clip").mkdir()
    config = VideoConfig(data_dir=str(root), cache_dir=str(tmp_path / "cache"), **FLAGS)
    data = load_splits(config)
    first = ClipCache(config).prepare(data.splits["test"], "test")
    assert sorted(u.split(":")[0] for u in first.unreadable) == ["corrupt.mp4", "empty_clip"]
    assert first.computed == 4 and first.reused == 0 and len(first.files) == 4
    assert "corrupt.mp4" in capsys.readouterr().out
    second = ClipCache(config).prepare(data.splits["test"], "test")
    assert second.computed == 0 and second.reused == 4 and second.files == first.files
    assert second.lengths == first.lengths and all(1 <= n <= 4 for n in first.lengths)
    pixels = ClipCache(config).read(tf.constant(first.files[0])).numpy()
    assert pixels.shape == (first.lengths[0], 16, 16, 3) and pixels.dtype == np.uint8


def test_tfds_ucf101_path(tmp_path):
    """The default data path under `tfds.testing.mock_data`, with encoded frames as TFDS
    keeps them (SkipDecoding): only the sampled frames are decoded."""
    seen = {}

    def jpeg(level: int) -> bytes:
        image = tf.constant(np.full((20, 24, 3), level, np.uint8))
        return tf.io.encode_jpeg(image).numpy()

    def as_dataset(self, split, decoders=None, **kwargs):
        seen[str(split)] = decoders
        videos = [[jpeg(10 * i + j) for j in range(5)] for i in range(4)]
        return tf.data.Dataset.from_tensor_slices(
            {"video": videos, "label": np.array([0, 1, 2, 0], np.int64)}
        )

    config = VideoConfig(cache_dir=str(tmp_path / "cache"), validation_split=0.25, **FLAGS)
    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = load_splits(config)
        clips = ClipCache(config).prepare(data.splits["test"], "test")
    assert sorted(seen) == ["test", "train"]
    assert all(isinstance(d["video"], tfds.decode.SkipDecoding) for d in seen.values())
    assert len(data.class_names) == 101 and data.class_names[0] == "ApplyEyeMakeup"
    assert len(data.splits["train"].records) == 3 and len(data.splits["val"].records) == 1
    assert data.report["validation"]["grouping"].startswith("random clips")
    assert clips.labels.tolist() == [0, 1, 2, 0] and clips.lengths == [4, 4, 4, 4]
    first = np.fromfile(clips.files[1], np.uint8).reshape(4, 16, 16, 3)
    assert abs(int(first[0].mean()) - 10) <= 2 and abs(int(first[-1].mean()) - 14) <= 2


def test_frame_folder_clips_of_odd_sizes_are_cropped_square(tmp_path):
    root = tmp_path / "data"
    for split in ("train", "test"):
        for label in ("a", "b"):
            folder = root / split / label / "clip_1"
            folder.mkdir(parents=True)
            for i in range(3):
                Image.fromarray(np.full((31, 57, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")
    (root / "val").mkdir()
    for label in ("a", "b"):
        (root / "val" / label).mkdir()
        (root / "train" / label / "clip_1").rename(root / "val" / label / "clip_1")
        source = root / "test" / label / "clip_1"
        target = root / "train" / label / "clip_1"
        target.mkdir()
        for frame in source.iterdir():
            (target / frame.name).write_bytes(frame.read_bytes())
    config = VideoConfig(data_dir=str(root), cache_dir=str(tmp_path / "cache"), **FLAGS)
    data = load_splits(config)
    clips = ClipCache(config).prepare(data.splits["val"], "val")
    pixels = np.fromfile(clips.files[0], np.uint8).reshape(-1, 16, 16, 3)
    assert pixels.shape[0] == 3 and [int(p.mean()) for p in pixels] == [0, 40, 80]


def test_a_search_trial_with_other_frames_reads_its_own_cache(tmp_path):
    """What a tuning trial does when it changes `--num_frames`: the preprocessing (the clip
    cache) is fitted again for it, and its datasets hold that many frames."""
    import dataclasses

    from apps.video.task import VideoTask

    root = small_motion(tmp_path / "data", train=4, test=2)
    config = VideoConfig(data_dir=str(root), cache_dir=str(tmp_path / "cache"), **FLAGS)
    task = VideoTask()
    data, config = task.load_data(config)
    assert task.cache(config) is task.cache(config)  # one per setting
    other = dataclasses.replace(config, num_frames=2)
    assert task.cache(other).folder != task.cache(config).folder
    frame_input = task.fit_preprocessing(other, data)
    assert frame_input.num_frames == 2
    batch, _ = next(iter(task.make_datasets(other, data, frame_input).train))
    assert batch["frames"].shape[1] == 2
