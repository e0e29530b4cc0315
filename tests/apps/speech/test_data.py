"""WAV decoding, resampling, clip fitting, augmentation and the folder/TFDS loaders."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from apps.speech import audio as audio_ops
from apps.speech.batches import make_dataset
from apps.speech.config import SpeechConfig
from apps.speech.data import load_splits
from apps.speech.wav import decode_wav
from apps.speech.wav import encode_wav
from apps.speech.wav import wav_error
from shared.errors import UserError
from tests.apps.speech.conftest import write_clips
from tests.dataset_test import cached_copies


def tone(frequency: float, rate: int, seconds: float) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * frequency * np.arange(int(rate * seconds)) / rate)


def peak_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * rate / len(audio))


# === WAV decoding ===


@pytest.mark.parametrize(
    "bits,floating,tolerance",
    [
        (8, False, 1 / 64),
        (16, False, 1e-4),
        (24, False, 1e-6),
        (32, False, 1e-8),
        (32, True, 1e-7),
        (64, True, 1e-7),
    ],
)
def test_decode_wav_reads_every_pcm_and_float_format(bits, floating, tolerance):
    wave = tone(440, 22050, 0.05)
    stereo = np.stack([wave, 0.5 * wave], axis=1)
    audio, rate, channels = decode_wav(encode_wav(stereo, 22050, bits=bits, floating=floating))
    assert int(rate) == 22050 and int(channels) == 2
    np.testing.assert_allclose(audio.numpy(), 0.75 * wave, atol=tolerance)  # mixed to mono


def test_decode_wav_skips_unknown_chunks_and_reads_extensible_format():
    data = encode_wav(tone(440, 8000, 0.01), 8000)
    # Insert a LIST chunk before 'fmt ' and turn the format into WAVE_FORMAT_EXTENSIBLE.
    fmt_start = data.index(b"fmt ")
    extra = b"LIST" + (3).to_bytes(4, "little") + b"abc\0"  # odd size: padded to even
    fmt_body = data[fmt_start + 8 : fmt_start + 24]
    extensible = (
        (0xFFFE).to_bytes(2, "little")
        + fmt_body[2:]
        + (22).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + (4).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + bytes(14)
    )
    fmt = b"fmt " + len(extensible).to_bytes(4, "little") + extensible
    body = b"WAVE" + extra + fmt + data[fmt_start + 24 :]
    wav = b"RIFF" + (len(body)).to_bytes(4, "little") + body
    audio, rate, _ = decode_wav(wav)
    assert int(rate) == 8000
    np.testing.assert_allclose(audio.numpy(), tone(440, 8000, 0.01), atol=1e-4)


@pytest.mark.parametrize(
    "contents,reason",
    [
        (b"", "not a RIFF/WAVE file"),
        (b"ID3\x03 an mp3 file, not a wav", "not a RIFF/WAVE file"),
        (b"RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00", "no complete 'fmt ' chunk"),
    ],
)
def test_decode_wav_names_the_problem(contents, reason):
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        decode_wav(contents)
    assert wav_error(error.value) == reason


def test_truncated_and_streaming_wav_files_decode_what_they_hold():
    data = encode_wav(tone(440, 8000, 0.1), 8000)
    audio, _, _ = decode_wav(data[:-200])  # data size in the header is larger than the file
    assert audio.shape[0] == (len(data) - 44 - 200) // 2
    streaming = data[:40] + b"\xff\xff\xff\xff" + data[44:]
    assert decode_wav(streaming)[0].shape[0] == 800


# === Resampling and clip fitting ===


@pytest.mark.parametrize(
    "rate_in,rate_out", [(44100, 16000), (8000, 16000), (16000, 8000), (22050, 16000)]
)
def test_resampling_keeps_a_1khz_tone_at_1khz(rate_in, rate_out):
    resampled = audio_ops.resample(tone(1000, rate_in, 1.0), rate_in, rate_out).numpy()
    assert len(resampled) == rate_out
    assert peak_frequency(resampled, rate_out) == pytest.approx(1000, abs=2)
    expected = tone(1000, rate_out, 1.0)
    np.testing.assert_allclose(resampled[64:-64], expected[64:-64], atol=1e-3)


def test_downsampling_removes_frequencies_above_the_new_nyquist():
    high = tone(7000, 44100, 1.0)  # would alias to 1 kHz at 8 kHz with nearest-sample picking
    resampled = audio_ops.resample(high, 44100, 8000).numpy()
    assert np.sqrt(np.mean(resampled[100:-100] ** 2)) < 1e-3


def test_centre_pads_short_clips_on_both_sides_and_crops_long_ones_around_the_sound():
    burst = np.ones(40, np.float32)
    short = audio_ops.centre(burst[None], 100).numpy()[0]
    assert np.flatnonzero(short)[[0, -1]].tolist() == [30, 69]
    long = np.zeros(1000, np.float32)
    long[700:740] = 1.0
    cropped = audio_ops.centre(long[None], 100).numpy()[0]
    assert np.flatnonzero(cropped)[[0, -1]].tolist() == [30, 69]


def test_centre_ignores_zeros_appended_for_batching():
    rng = np.random.default_rng(0)
    clips = [rng.normal(size=n).astype(np.float32) for n in (50, 130, 300)]
    batch = np.zeros((3, 400), np.float32)
    for row, clip in enumerate(clips):
        batch[row, : len(clip)] = clip
    together = audio_ops.centre(batch, 128).numpy()
    for row, clip in enumerate(clips):
        alone = audio_ops.centre(clip[None], 128).numpy()[0]
        np.testing.assert_array_equal(together[row], alone)
    assert audio_ops.centre(np.zeros((2, 0), np.float32), 16).shape == (2, 16)


def test_augmentations_keep_the_length_and_change_the_clip():
    clip = tf.constant(tone(500, 8000, 0.25), tf.float32)
    seed = tf.constant([1, 2], tf.int64)
    shifted = audio_ops.time_shift(clip, 200, seed)
    faster = audio_ops.change_speed(clip, 0.2, seed)
    noisy = audio_ops.add_noise(clip, tf.zeros([0, 2000]), (10.0, 10.0), seed)
    for changed in (shifted, faster, noisy):
        assert changed.shape == clip.shape and not np.allclose(changed, clip)
    snr = 10 * np.log10(np.mean(clip.numpy() ** 2) / np.mean((noisy - clip).numpy() ** 2))
    assert snr == pytest.approx(10.0, abs=0.01)


# === Loaders ===


def tiny_config(data_dir, **overrides) -> SpeechConfig:
    values = dict(data_dir=str(data_dir), sample_rate=8000, clip_seconds=0.25, batch_size=4)
    return SpeechConfig(**{**values, **overrides})


def test_folder_loader_reads_every_format_and_skips_corrupt_files(clip_folder, capsys):
    (clip_folder / "test" / "low" / "broken.wav").write_bytes(b"RIFF....WAVEnothing")
    (clip_folder / "test" / "high" / "notes.txt").write_text("not audio")
    splits = load_splits(tiny_config(clip_folder))
    assert splits.class_names == ("chirp", "high", "low")
    assert splits.counts["test"] == 12 and splits.counts["train"] + splits.counts["val"] == 24
    assert splits.report["skipped_files"] == 1 and "broken.wav" in splits.report["skipped"][0]
    assert "warning: skipping" in capsys.readouterr().err
    assert set(splits.report["sample_rates"]) == {"8000", "11025", "16000", "44100"}
    assert splits.report["channels"] == {"1": 27, "2": 9}
    clips = list(splits.clips("test").as_numpy_iterator())
    assert len(clips) == 12 and all(clip.shape == (2000,) for clip, _ in clips)
    json.dumps(splits.report)  # goes to metrics.json


def test_mel_bands_stop_where_the_training_recordings_stop(clip_folder):
    for path in (clip_folder / "train").glob("*/*_[04].wav"):  # the 8 kHz training files
        path.unlink()
    config = tiny_config(clip_folder, sample_rate=16000)
    splits = load_splits(config)
    assert splits.report["sample_rates"]["8000"] == 3  # test files only
    assert splits.training_rate == 11025
    assert splits.max_frequency(config) == 11025 / 2
    assert splits.max_frequency(dataclasses.replace(config, sample_rate=8000)) == 4000
    assert splits.max_frequency(dataclasses.replace(config, max_frequency=1000.0)) == 1000


def test_background_noise_folder_becomes_noise_not_a_label(clip_folder):
    noise = clip_folder / "train" / "_background_noise_"
    noise.mkdir()
    (noise / "hum.wav").write_bytes(encode_wav(tone(50, 16000, 1.0), 16000))
    splits = load_splits(tiny_config(clip_folder))
    assert "_background_noise_" not in splits.class_names
    assert splits.noise.shape == (7, 2000)  # 8000 samples in half-overlapping 2000-sample cuts


def test_training_batches_are_augmented_and_evaluation_batches_are_not(clip_folder):
    config = tiny_config(clip_folder)
    splits = load_splits(config)
    clean = make_dataset(splits.clips("test"), config, training=False)
    first = next(iter(clean))[0]["audio"].numpy()
    assert np.array_equal(first, next(iter(clean))[0]["audio"].numpy())
    train = make_dataset(splits.clips("train", shuffle_seed=1), config, training=True)
    epoch1 = np.concatenate([x["audio"].numpy() for x, _ in train])
    epoch2 = np.concatenate([x["audio"].numpy() for x, _ in train])
    assert epoch1.shape == epoch2.shape == (splits.counts["train"], 2000)
    assert not np.allclose(np.sort(epoch1.sum(1)), np.sort(epoch2.sum(1)))


@pytest.mark.parametrize(
    "layout,message",
    [
        ("missing", "no such folder"),
        ("no_test", "missing the test/ folder"),
        ("one_label", "need at least 2"),
        ("unreadable_split", "no readable WAV file"),
    ],
)
def test_bad_folders_give_one_clear_error(tmp_path, layout, message):
    root = tmp_path / "data"
    if layout != "missing":
        write_clips(root, "train", 2, labels=("a",) if layout == "one_label" else ("a", "b"))
    if layout == "one_label":
        write_clips(root, "test", 2, labels=("a",))
    if layout == "unreadable_split":
        for label in ("a", "b"):
            (root / "test" / label).mkdir(parents=True)
            (root / "test" / label / "x.wav").write_bytes(b"junk")
    with pytest.raises(UserError, match=message):
        load_splits(tiny_config(root))


def test_tfds_loader_under_mock_data_handles_random_lengths():
    config = dataclasses.replace(tiny_config(None), data_dir=None)
    with tfds.testing.mock_data(num_examples=6):
        splits = load_splits(config)
        assert len(splits.class_names) == 12 and splits.counts["train"] == 6
        clips = list(splits.clips("train").as_numpy_iterator())
    assert all(clip.shape == (2000,) and np.all(np.isfinite(clip)) for clip, _ in clips)


# === Validation by speaker ===


def speaker_folder(tmp_path, names):
    """clip_folder's training recordings renamed by `names(label, i)`."""
    root = tmp_path / "speakers"
    write_clips(root, "train", copies=8)
    write_clips(root, "test", copies=2)
    for folder in (root / "train").iterdir():
        for i, path in enumerate(sorted(folder.glob("*.wav"))):
            path.rename(folder / names(folder.name, i))
    return root


def test_validation_holds_whole_speakers_recognized_from_fsdd_names(tmp_path, capsys):
    speakers = ("anna", "ben", "carl", "dora")
    digit = {"low": 0, "high": 1, "chirp": 2}  # FSDD: <digit>_<speaker>_<n>.wav
    root = speaker_folder(tmp_path, lambda label, i: f"{digit[label]}_{speakers[i % 4]}_{i}.wav")
    splits = load_splits(SpeechConfig(data_dir=str(root), validation_split=0.25, sample_rate=8000))
    speaker = lambda path: path.name.split("_")[1]  # noqa: E731
    train = {speaker(p) for p, _ in splits.files["train"]}
    val = {speaker(p) for p, _ in splits.files["val"]}
    assert val and not train & val and train | val == set(speakers)
    assert splits.report["validation"]["grouping"] == "FSDD file names"
    assert "speaker(s) not in training" in capsys.readouterr().out


def test_one_file_named_otherwise_trains_and_validation_stays_by_speaker(tmp_path, capsys):
    """Before: one stray name switched the whole validation to random files, silently."""
    speakers = ("anna", "ben", "carl", "dora")
    digit = {"low": 0, "high": 1, "chirp": 2}
    root = speaker_folder(tmp_path, lambda label, i: f"{digit[label]}_{speakers[i % 4]}_{i}.wav")
    (root / "train" / "low" / "0_anna_0.wav").rename(root / "train" / "low" / "recording.wav")
    splits = load_splits(SpeechConfig(data_dir=str(root), validation_split=0.25, sample_rate=8000))
    report = splits.report["validation"]
    assert report["grouping"] == "FSDD file names"
    assert report["ungrouped_files"] == {"count": 1, "first": "recording.wav"}
    assert "recording.wav" in {p.name for p, _ in splits.files["train"]}
    assert "recording.wav" not in {p.name for p, _ in splits.files["val"]}
    assert sum(splits.counts[s] for s in ("train", "val")) == 24
    out = capsys.readouterr().err
    assert "warning: 1 file(s) in train/ not named like the others (recording.wav" in out


def test_group_pattern_names_the_groups_and_bad_patterns_are_clear_errors(tmp_path, capsys):
    root = speaker_folder(tmp_path, lambda label, i: f"take{i % 3}-{label}-{i}.wav")
    config = SpeechConfig(data_dir=str(root), sample_rate=8000, group_pattern=r"^(take\d)-")
    splits = load_splits(config)
    takes = lambda split: {p.name[:5] for p, _ in splits.files[split]}  # noqa: E731
    assert len(takes("val")) == 1 and not takes("train") & takes("val")
    random = load_splits(dataclasses.replace(config, group_pattern=""))
    assert random.report["validation"] == {"grouping": "random files"}
    assert "do not name the speaker" in capsys.readouterr().out
    for pattern, message in (("^(take", "not a regular expression"), ("^take", "capture group")):
        with pytest.raises(UserError, match=message):
            load_splits(dataclasses.replace(config, group_pattern=pattern))


def test_validation_folds_hold_out_each_speaker_once_and_a_val_folder_refuses_them(tmp_path):
    speakers = ("anna", "ben", "carl")
    digit = {"low": 0, "high": 1, "chirp": 2}
    root = speaker_folder(tmp_path, lambda label, i: f"{digit[label]}_{speakers[i % 3]}_{i}.wav")
    config = SpeechConfig(data_dir=str(root), sample_rate=8000)
    held = []
    for fold in range(3):
        splits = load_splits(dataclasses.replace(config, validation_fold=fold))
        speaker = lambda split: {p.name.split("_")[1] for p, _ in splits.files[split]}  # noqa: E731
        assert len(speaker("val")) == 1 and not speaker("train") & speaker("val")
        assert splits.report["validation"].get("fold", 0) == fold
        held += sorted(speaker("val"))
    assert sorted(held) == sorted(speakers)
    with pytest.raises(UserError, match="only 3 disjoint"):
        load_splits(dataclasses.replace(config, validation_fold=3))
    (root / "train").rename(root / "val")
    shutil.copytree(root / "val", root / "train")
    with pytest.raises(UserError, match=r"--validation_fold 1 .*val has its own validation"):
        load_splits(dataclasses.replace(config, validation_fold=1))


def test_clips_are_decoded_once_into_the_disk_cache_and_never_held_in_memory(clip_folder, tmp_path):
    from apps.speech.task import SpeechTask

    task = SpeechTask()
    flags = dict(data_dir=str(clip_folder), sample_rate=8000, cache_dir=str(tmp_path / "c"))
    splits, config = task.load_data(SpeechConfig(**flags))
    statistics = task.fit_preprocessing(config, splits)
    datasets = task.make_datasets(config, splits, statistics)
    assert cached_copies(datasets.train) == 0 and cached_copies(datasets.train_and_val) == 0
    for dataset in (datasets.train, datasets.train, datasets.val, datasets.train_and_val):
        examples = sum(len(y) for _, y in dataset)
    assert examples == splits.counts["train"] + splits.counts["val"]
    # Decoded once: by the statistics for train, by the first epoch for val.
    decoded = {split: splits.counts[split] for split in ("train", "val")}
    assert splits.report["clips_decoded"] == decoded
    # The entries hold what decoding the file gives, and a later run decodes nothing.
    path, label = splits.files["test"][0]
    expected = audio_ops.load_clip(tf.io.read_file(str(path)), 8000, config.clip_samples)
    clip, cached_label = next(splits.clips("test").as_numpy_iterator())
    assert np.array_equal(clip, expected.numpy()) and cached_label == label
    again, _ = task.load_data(SpeechConfig(**flags))
    assert sum(1 for _ in again.clips("train", "val", "test")) == 36
    assert again.report["clips_decoded"] == {"train": 0, "val": 0, "test": 0}
    # Labels come from the file list: no clip is read for them.
    assert list(again.labels("test")) == [label for _, label in splits.files["test"]]


def test_each_worker_decodes_only_its_share_and_evaluates_all_of_test(
    clip_folder, tmp_path, monkeypatch
):
    cluster = {"cluster": {"worker": ["localhost:1", "localhost:2"]}}
    shares = []
    for index in (0, 1):
        monkeypatch.setenv(
            "TF_CONFIG", json.dumps({**cluster, "task": {"type": "worker", "index": index}})
        )
        config = SpeechConfig(
            data_dir=str(clip_folder),
            sample_rate=8000,
            strategy="multi_worker",
            cache_dir=str(tmp_path / f"cache{index}"),
        )
        splits = load_splits(config)
        train = [label for _, label in splits.clips("train").as_numpy_iterator()]
        test = sum(1 for _ in splits.clips("test"))
        shares.append(len(train))
        assert splits.report["clips_decoded"]["train"] == len(train) and test == 12
    assert sum(shares) == splits.counts["train"] and abs(shares[0] - shares[1]) <= 1
