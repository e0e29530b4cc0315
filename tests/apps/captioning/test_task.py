"""The captioning Task's own parts: the vocabulary saved and restored, the epoch's examples."""

from apps.captioning.config import CaptioningConfig
from apps.captioning.task import CaptioningTask
from tests.apps.captioning.conftest import small_shapes


def test_vocabulary_round_trips_and_every_caption_is_an_example(tmp_path):
    task = CaptioningTask()
    config = CaptioningConfig(
        data_dir=str(small_shapes(tmp_path / "data", train=20, test=2)),
        backbone_weights="none",
        image_size=16,
        min_word_count=1,
        cache_dir=str(tmp_path / "cache"),
        batch_size=4,
    )
    data, config = task.load_data(config)
    captions = task.fit_preprocessing(config, data)
    task.save_preprocessing(captions, tmp_path / "saved")
    restored = task.load_preprocessing(config, tmp_path / "saved")
    assert restored.vocabulary.words == captions.vocabulary.words
    assert {"red", "circle"} <= set(restored.vocabulary.words)
    datasets = task.make_datasets(config, data, restored)
    assert datasets.examples["train"] == data.splits["train"].num_captions
    assert datasets.examples["train_images"] == len(data.splits["train"].records)
    seen = sum(int(targets.shape[0]) for _, targets in datasets.train)
    assert seen == datasets.examples["train"]
