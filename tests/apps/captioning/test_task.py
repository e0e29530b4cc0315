"""The captioning Task's own parts: the vocabulary saved with the model, the epoch's examples."""

import keras

from apps.captioning.config import CaptioningConfig
from apps.captioning.task import CaptioningTask
from tests.apps.captioning.conftest import small_shapes


def test_vocabulary_round_trips_and_every_caption_is_an_example(tmp_path):
    task = CaptioningTask()
    data_dir = small_shapes(tmp_path / "data", train=20, test=2)
    config = CaptioningConfig(
        data_dir=str(data_dir),
        backbone_weights="none",
        image_size=16,
        min_word_count=1,
        cache_dir=str(tmp_path / "cache"),
        batch_size=4,
    )
    data, config = task.load_data(config)
    inputs = task.fit_preprocessing(config, data)
    model = task.build_model(config, inputs, steps_per_epoch=1)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    assert restored.preprocessor.words == inputs.words
    assert {"red", "circle"} <= set(restored.preprocessor.words)
    image = (data_dir / "test" / "images").iterdir().__next__().read_bytes()
    assert restored.generate([image, b"no image"]) == model.generate([image, b"no image"])
    datasets = task.make_datasets(config, data, restored.preprocessor)
    assert datasets.examples["train"] == data.splits["train"].num_captions
    assert datasets.examples["train_images"] == len(data.splits["train"].records)
    seen = sum(int(targets.shape[0]) for _, targets in datasets.train)
    assert seen == datasets.examples["train"]
