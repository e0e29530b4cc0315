"""Speech data: clips from TFDS or `<split>/<label>/*.wav` folders, augmentation and batching.

Every clip becomes mono float32 `[clip_samples]` at the run's sample rate, centred on its speech,
with the same TensorFlow functions the export uses (`apps.speech.audio`, `apps.speech.wav`).
"""

import dataclasses
import functools
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

import numpy as np
import tensorflow as tf

from apps.speech import audio as audio_ops
from apps.speech.clips import ClipCache
from apps.speech.config import SpeechConfig
from apps.speech.wav import decode_wav
from apps.speech.wav import wav_error
from shared.data import AUTOTUNE
from shared.data import count
from shared.data import label_split_folders
from shared.data import labels_of
from shared.data import load_tfds_dataset
from shared.data import refuse_fold
from shared.data import split_validation
from shared.data import validation_by_group
from shared.errors import UserError
from shared.feature_cache import content_key
from shared.sharding import InputShard
from shared.sharding import input_shard

NOISE_FOLDER = "_background_noise_"  # Speech Commands keeps background recordings here
MAX_LISTED_SKIPS = 20
# The feature statistics come from at most this many training clips (a seeded sample).
STATISTICS_CLIPS = 8192
TFDS_SHUFFLE = 4096  # clips in the shuffle buffer of TFDS training data (256 MB at 16 kHz)


@dataclasses.dataclass
class Splits:
    """Where each split's clips come from, and what was learned while listing them.

    Folder data: `files` lists each split's readable `(path, label)` pairs (the export check
    feeds the test files as WAV bytes) and `keys` their content keys in the `ClipCache`.
    TFDS: `tfds` holds each split's unbatched `(clip, label)` examples (this worker's share).
    `clips(split)` streams a split, never holding it in memory. `noise` holds background-noise
    segments `[n, clip_samples]` (possibly none). `report` goes to `metrics.json`.
    `training_rate` is the lowest sample rate among the training recordings: no sound above
    half of it reaches the model. `counts` are whole splits (every worker's share together).
    """

    class_names: tuple[str, ...]
    counts: dict[str, int]
    noise: np.ndarray
    report: dict
    training_rate: int
    files: dict[str, list[tuple[Path, int]]] = dataclasses.field(default_factory=dict)
    keys: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    tfds: dict[str, tf.data.Dataset] = dataclasses.field(default_factory=dict)
    tfds_labels: dict[str, tf.data.Dataset] = dataclasses.field(default_factory=dict)
    shard: InputShard = InputShard()
    cache: Optional[ClipCache] = None
    _entries: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def max_frequency(self, config: SpeechConfig) -> float:
        """`--max_frequency`, or else the highest frequency the training recordings can hold."""
        return config.max_frequency or min(self.training_rate, config.sample_rate) / 2

    def share_count(self, split: str) -> int:
        """How many examples of `split` this worker reads."""
        if self.files:
            return len(self.shard.take(self.files[split]))
        return count(self.tfds[split])

    def labels(self, split: str) -> np.ndarray:
        """The labels of a whole split, without decoding any audio."""
        if self.files:
            return np.array([label for _, label in self.files[split]], np.int32)
        return labels_of(self.tfds_labels[split])

    def clips(
        self, *splits: str, shuffle_seed: Optional[int] = None, sample: int = 0
    ) -> tf.data.Dataset:
        """Unbatched `(clip [clip_samples], label)` of this worker's share of `splits` (the
        chief evaluates the whole test split), optionally shuffled together (each epoch
        anew) or cut to a fixed `sample` of clips; folder clips are decoded once, into the
        cache, on first use.
        """
        if not self.files:
            dataset = self.tfds[splits[0]]
            for split in splits[1:]:
                dataset = dataset.concatenate(self.tfds[split])
            if shuffle_seed is not None:
                dataset = dataset.shuffle(TFDS_SHUFFLE, seed=shuffle_seed)
            return dataset.take(sample) if sample else dataset
        shares = [self._share(split) for split in splits]
        entries = [entry for share, _ in shares for entry in share]
        labels = np.concatenate([labels for _, labels in shares])
        if sample and sample < len(entries):  # a seeded sample, in file order
            picked = np.sort(np.random.default_rng(0).choice(len(entries), sample, replace=False))
            entries, labels = [entries[i] for i in picked], labels[picked]
        dataset = tf.data.Dataset.from_tensor_slices((entries, labels))
        if shuffle_seed is not None:  # the list of entries: a full shuffle, in no memory
            dataset = dataset.shuffle(len(entries), shuffle_seed, reshuffle_each_iteration=True)
        return dataset.map(
            lambda entry, label: (self.cache.read(entry), label), num_parallel_calls=AUTOTUNE
        )

    def _share(self, split: str) -> tuple[list[str], np.ndarray]:
        """The cache entries and labels of this worker's share of a folder split."""
        shard = InputShard() if split == "test" else self.shard
        files, keys = shard.take(self.files[split]), shard.take(self.keys[split])
        if split not in self._entries:
            self._entries[split], decoded = self.cache.prepare([p for p, _ in files], keys, split)
            self.report.setdefault("clips_decoded", {})[split] = decoded
        return self._entries[split], np.array([label for _, label in files], np.int32)


def load_splits(config: SpeechConfig) -> Splits:
    """Train/val/test clips from `--data_dir`, or from TFDS by default."""
    splits = load_folder(config) if config.data_dir else load_tfds(config)
    for split, n in splits.counts.items():
        if n == 0:
            raise UserError(
                f"the {split} split is empty; add examples or change --validation_split"
            )
    splits.report["statistics_clips"] = min(STATISTICS_CLIPS, splits.counts["train"])
    return splits


# === Folders of WAV files ===


_probe = tf.function(decode_wav, input_signature=[tf.TensorSpec([], tf.string)])


def probe_wav(path: Path) -> tuple[int, int, int, str] | str:
    """(samples, sample rate, channels, content key) of a readable WAV file, else the reason
    it is not."""
    try:
        contents = path.read_bytes()
    except OSError as error:
        return f"cannot read ({error.strerror})"
    try:
        audio, rate, channels = _probe(tf.constant(contents))
    except tf.errors.InvalidArgumentError as error:
        return wav_error(error)
    return int(audio.shape[0]), int(rate), int(channels), content_key(contents)


def load_folder(config: SpeechConfig) -> Splits:
    """`<data_dir>/<split>/<label>/*.wav`; unreadable files are skipped with a warning."""
    root = Path(config.data_dir)
    names, class_names = label_split_folders(
        root, config.class_names, "<split>/<label>/*.wav", skip=(NOISE_FOLDER,)
    )
    stats = FileStats(config.clip_samples, config.sample_rate)
    files = {split: stats.scan(root / split, class_names) for split in names}
    for split, found in files.items():
        if not found:
            raise UserError(f"{root / split}: no readable WAV file in any label folder")
    training_rate = min(stats.rates_by_folder[root / "train"])
    report = stats.report()
    if "val" not in files:
        files["train"], files["val"], report["validation"] = validation_by_speaker(
            files["train"], config
        )
    else:
        refuse_fold(config, str(root / "val"))
    keys = {split: [stats.keys[path] for path, _ in found] for split, found in files.items()}
    noise_files = sorted((root / NOISE_FOLDER).glob("*.wav")) + sorted(
        (root / "train" / NOISE_FOLDER).glob("*.wav")
    )
    noise = noise_segments(noise_files, config)
    report["noise_segments"] = int(len(noise))
    counts = {split: len(found) for split, found in files.items()}
    return Splits(
        tuple(class_names),
        counts,
        noise,
        report,
        training_rate,
        files=files,
        keys=keys,
        shard=input_shard(config),
        cache=ClipCache(config),
    )


# File names that say who spoke: FSDD's <digit>_<speaker>_<n>.wav, Speech Commands'
# <speaker hash>_nohash_<n>.wav.
SPEAKER_PATTERNS = {
    "FSDD": r"^\d+_([A-Za-z]+)_\d+\.wav$",
    "Speech Commands": r"^([0-9a-f]{8})_nohash_",
}


def validation_by_speaker(
    files: list[tuple[Path, int]], config: SpeechConfig
) -> tuple[list, list, dict]:
    """Train and validation files without a speaker on both sides, and how they were split.

    `--group_pattern` names the speaker; by default FSDD and Speech Commands names are
    recognized. Files of unknown speakers fall back to a random split, which measures
    accuracy on voices training has heard (and says so).
    """
    return validation_by_group(
        files,
        [path.name for path, _ in files],
        pattern=config.group_pattern,
        conventions=SPEAKER_PATTERNS,
        fraction=config.validation_split,
        seed=config.seed,
        noun="speaker",
        fold=config.validation_fold,
    )


def wav_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".wav")


class FileStats:
    """Checks every file once and counts what real folders hold (rates, channels, lengths)."""

    def __init__(self, clip_samples: int, sample_rate: int):
        self.clip_samples = clip_samples
        self.sample_rate = sample_rate
        self.rates: Counter = Counter()
        self.rates_by_folder: dict[Path, set[int]] = {}
        self.channels: Counter = Counter()
        self.seconds: list[float] = []
        self.skipped: list[str] = []
        self.keys: dict[Path, str] = {}  # content keys of the readable files

    def scan(self, split_dir: Path, class_names) -> list[tuple[Path, int]]:
        found = []
        for index, label in enumerate(class_names):
            if not (split_dir / label).is_dir():
                continue
            for path in wav_files(split_dir / label):
                probe = probe_wav(path)
                if isinstance(probe, str):
                    print(f"warning: skipping {path}: {probe}", file=sys.stderr)
                    self.skipped.append(f"{path}: {probe}")
                    continue
                samples, rate, channels, self.keys[path] = probe
                self.rates[rate] += 1
                self.rates_by_folder.setdefault(split_dir, set()).add(rate)
                self.channels[channels] += 1
                self.seconds.append(samples / rate)
                found.append((path, index))
        return found

    def report(self) -> dict:
        seconds = np.asarray(self.seconds)
        clip = self.clip_samples / self.sample_rate
        return {
            "skipped_files": len(self.skipped),
            "skipped": self.skipped[:MAX_LISTED_SKIPS],
            "sample_rates": {str(k): v for k, v in sorted(self.rates.items())},
            "channels": {str(k): v for k, v in sorted(self.channels.items())},
            "seconds": {
                "min": round(float(seconds.min()), 4),
                "median": round(float(np.median(seconds)), 4),
                "max": round(float(seconds.max()), 4),
            },
            "clips_cropped": int(np.sum(seconds > clip)),
            "clips_padded": int(np.sum(seconds < clip)),
        }


def noise_segments(paths: list[Path], config: SpeechConfig) -> np.ndarray:
    """Clip-length segments (half overlapping) of background recordings, `[n, clip_samples]`."""
    length = config.clip_samples
    segments = []
    for path in paths:
        try:
            audio, rate, _ = _probe(tf.constant(path.read_bytes()))
        except (OSError, tf.errors.InvalidArgumentError):
            print(f"warning: skipping background noise file {path}: unreadable", file=sys.stderr)
            continue
        audio = audio_ops.resample(audio, rate, config.sample_rate).numpy()
        for start in range(0, len(audio) - length + 1, length // 2):
            segment = audio[start : start + length]
            if np.any(segment):
                segments.append(segment)
    return np.stack(segments) if segments else np.zeros((0, length), np.float32)


# === TFDS ===


def load_tfds(config: SpeechConfig) -> Splits:
    """train / validation / test of a TFDS audio-classification set as centred clips.

    Under `--strategy multi_worker` each worker reads only its share of train and validation
    (`tfds.even_splits`); the clips are resampled and centred as they stream (TFDS keeps the
    audio on disk).
    """
    import tensorflow_datasets as tfds

    refuse_fold(config, f"TFDS {config.tfds_name}")
    wanted = {"train": "train", "val": "validation", "test": "test"}
    try:
        known = set(tfds.builder(config.tfds_name, data_dir=config.tfds_data_dir).info.splits)
    except tfds.core.registered.DatasetNotFoundError:
        known = set()  # load_tfds_dataset names the missing data set
    if known and "validation" not in known:
        del wanted["val"]
    shard = input_shard(config)
    names = [
        tfds.even_splits(name, shard.count)[shard.index]
        if shard.count > 1 and split != "test"
        else name
        for split, name in wanted.items()
    ]
    load = functools.partial(
        load_tfds_dataset, config.tfds_name, as_supervised=True, data_dir=config.tfds_data_dir
    )
    raw, info = load(split=names, with_info=True)
    # The labels alone, the audio left encoded (what evaluation's baseline reads).
    skip = {"audio": tfds.decode.SkipDecoding()}
    labels_only = load(split=list(wanted.values()), decoders=skip)
    rate = getattr(info.features["audio"], "sample_rate", None) or config.sample_rate

    def to_clip(audio, label):
        resampled = audio_ops.resample(as_float(audio), rate, config.sample_rate)
        return audio_ops.centre_one(resampled, config.clip_samples), tf.cast(label, tf.int32)

    datasets = {
        split: dataset.map(to_clip, num_parallel_calls=AUTOTUNE)
        for split, dataset in zip(wanted, raw)
    }
    labels = {
        split: dataset.map(lambda audio, label: (0, tf.cast(label, tf.int32)))
        for split, dataset in zip(wanted, labels_only)
    }
    if "val" not in datasets:  # a seeded random part of train (the same on every worker)
        labels["train"], labels["val"] = split_validation(
            labels["train"], config.validation_split, config.seed
        )
        datasets["train"], datasets["val"] = split_validation(
            datasets["train"], config.validation_split, config.seed
        )
    counts = {split: count(dataset) for split, dataset in labels.items()}
    class_names = config.class_names or tuple(info.features["label"].names)
    report = {"tfds": config.tfds_name, "sample_rates": {str(rate): sum(counts.values())}}
    empty_noise = np.zeros((0, config.clip_samples), np.float32)
    return Splits(
        tuple(class_names),
        counts,
        empty_noise,
        report,
        rate,
        tfds=datasets,
        tfds_labels=labels,
        shard=shard,
    )


def as_float(audio: tf.Tensor) -> tf.Tensor:
    """Integer PCM samples to float32 in [-1, 1]; float samples pass through."""
    if audio.dtype.is_integer:
        return tf.cast(audio, tf.float32) / float(2 ** (audio.dtype.size * 8 - 1))
    return tf.cast(audio, tf.float32)
