"""Under `--strategy multi_worker` each worker maps only its share of the training examples.

For every app, the datasets that workers 0 and 1 of a two-worker cluster build (`TF_CONFIG`
set as the cluster sets it; no cluster is started) are iterated and their examples counted:
each worker holds half (+/- 5%) and the two halves make the whole.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from apps.captioning.task import CaptioningTask
from apps.sentiment.task import SentimentTask
from apps.speech.task import SpeechTask
from apps.translation.task import TranslationTask
from apps.video.task import VideoTask
from apps.weather.task import WeatherTask
from shared.cli import parse_config
from tests.apps.captioning import conftest as captioning
from tests.apps.sentiment import conftest as sentiment
from tests.apps.speech import conftest as speech
from tests.apps.translation import conftest as translation
from tests.apps.video import conftest as video
from tests.apps.weather import conftest as weather


def sentiment_data(root: Path) -> list[str]:
    sentiment.write_reviews(root, "train", copies=6)
    sentiment.write_reviews(root, "test", copies=1)
    return [*sentiment.TINY_FLAGS, "--data_dir", str(root)]


def weather_data(root: Path) -> list[str]:
    weather.write_csv(weather.signal_frame(hours=600), root / "station.csv")
    return ["--data_dir", str(root), "--target_columns", "temp", "--input_steps", "24"]


def translation_data(root: Path) -> list[str]:
    translation.write_corpus(root, train=120, test=10)
    return [*translation.TINY_FLAGS, "--data_dir", str(root)]


def speech_data(root: Path) -> list[str]:
    speech.write_clips(root, "train", copies=8)
    speech.write_clips(root, "test", copies=1)
    return [*speech.TINY_FLAGS, "--data_dir", str(root)]


def captioning_data(root: Path) -> list[str]:
    captioning.small_shapes(root, train=40, test=4)
    return [*captioning.TINY_FLAGS, "--data_dir", str(root)]


def video_data(root: Path) -> list[str]:
    video.small_motion(root, train=8, test=1)
    return [*video.TINY_FLAGS, "--data_dir", str(root)]


APPS = {
    "sentiment": (SentimentTask, sentiment_data),
    "weather": (WeatherTask, weather_data),
    "translation": (TranslationTask, translation_data),
    "speech": (SpeechTask, speech_data),
    "captioning": (CaptioningTask, captioning_data),
    "video": (VideoTask, video_data),
}


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_of_two_workers_maps_half_of_the_training_examples(app, tmp_path, monkeypatch):
    task_class, write = APPS[app]
    flags = write(tmp_path / "data")
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    counted, reported = [], []
    for index in (0, 1):
        task_spec = {"type": "worker", "index": index}
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task_spec}))
        task = task_class()
        argv = [*flags, "--strategy", "multi_worker"]
        config = parse_config(task.config_class, argv, "", prog=app)
        data, config = task.load_data(config)
        datasets = task.make_datasets(config, data, task.fit_preprocessing(config, data))
        counted.append(sum(int(np.shape(label)[0]) for _, label in datasets.train))
        reported.append(datasets.examples["train"])
    assert counted == reported  # what each worker says it reads is what it reads
    whole = sum(counted)
    assert all(abs(share / whole - 0.5) <= 0.05 for share in counted), counted
