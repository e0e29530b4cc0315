"""Clips from disk: video files through PyAV (sizes, rates, rotation), frame folders, errors."""

import fractions

import av
import numpy as np
import pytest
from PIL import Image

from apps.video import decode
from apps.video.decode import ClipError
from apps.video.decode import frame_files
from apps.video.decode import read_clip
from tests.apps.video.motion import write_video


def marked_clip(frames: int, height: int = 48, width: int = 64) -> np.ndarray:
    """Frame i is dark with a bright top-left block and a grey level of 10 * i below it."""
    clip = np.zeros((frames, height, width, 3), np.uint8)
    for i in range(frames):
        clip[i, height // 2 :] = 10 * i
        clip[i, :16, :16] = 250
    return clip


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_files_decode_to_the_frames_written(tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    write_video(path, marked_clip(12), fps=12)
    frames = read_clip(path, num_frames=4)
    assert frames.shape == (4, 48, 64, 3)
    levels = frames[:, 40, 32].mean(axis=-1)
    assert np.allclose(levels, [0, 40, 70, 110], atol=12)  # frames 0, 4, 7, 11
    assert frames[:, 4, 4].min() > 200


def write_timed(path, times_ms, rotation=None, size=(64, 48)):
    """An .mp4 whose frames are shown at `times_ms` (a variable rate), maybe rotated."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        clip = marked_clip(len(times_ms), height, width)
        for image, time in zip(clip, times_ms):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = time, fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_a_variable_frame_rate_video_is_sampled_by_presentation_time(tmp_path):
    path = tmp_path / "vfr.mp4"
    write_timed(path, [0, 100, 200, 300, 400, 500, 600, 700, 2000, 3000, 4000])
    levels = read_clip(path, num_frames=3)[:, 40, 32].mean(axis=-1)
    # 0 s, 2 s, 4 s: frames 0, 8 and 10 (by index it would have been 0, 5, 10).
    assert np.allclose(levels, [0, 80, 100], atol=12)


@pytest.mark.parametrize("rotation,corner", [(90, (-1, 0)), (-90, (0, -1)), (180, (-1, -1))])
def test_rotation_metadata_turns_frames_upright(tmp_path, rotation, corner):
    """The bright block is top-left in the stored frame; players show it where the display
    matrix turns it (counter-clockwise by `rotation` degrees), and so must we."""
    path = tmp_path / "phone.mp4"
    write_timed(path, [0, 100, 200], rotation=rotation)
    frames = read_clip(path, num_frames=3)
    expected_shape = (48, 64) if rotation == 180 else (64, 48)
    assert frames.shape[1:3] == expected_shape
    row = 4 if corner[0] == 0 else frames.shape[1] - 5
    column = 4 if corner[1] == 0 else frames.shape[2] - 5
    assert frames[0, row, column].min() > 200


def test_frame_folders_are_ordered_by_the_number_in_the_names(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    clip = marked_clip(12, 31, 45)  # odd sides
    for i, image in enumerate(clip):
        Image.fromarray(image).save(folder / f"frame_{i}.png")
    (folder / "notes.txt").write_text("not a frame")
    assert [p.name for p in frame_files(folder)][:3] == [
        "frame_0.png",
        "frame_1.png",
        "frame_2.png",
    ]
    assert frame_files(folder)[10].name == "frame_10.png"
    frames = read_clip(folder, num_frames=12)
    assert frames.shape == (12, 31, 45, 3)
    assert np.array_equal(frames, clip)


@pytest.mark.parametrize(
    "make,message",
    [
        (
            lambda p: p.with_suffix(".mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 junk" * 50),
            "cannot decode|no video stream",
        ),
        (lambda p: p.mkdir(), "no frame images"),
    ],
)
def test_unreadable_clips_raise_clip_errors(tmp_path, make, message):
    path = tmp_path / "clip"
    make(path)
    target = path.with_suffix(".mp4") if not path.exists() else path
    with pytest.raises(ClipError, match=message):
        read_clip(target, num_frames=4)


def test_frames_of_different_sizes_or_a_broken_frame_are_errors(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "1.png")
    Image.fromarray(np.zeros((9, 8, 3), np.uint8)).save(folder / "2.png")
    with pytest.raises(ClipError, match="different sizes"):
        read_clip(folder, 4)
    (folder / "2.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ClipError, match="not a decodable"):
        read_clip(folder, 4)


def test_only_the_sampled_frames_of_a_long_video_are_turned_into_pixels(tmp_path, monkeypatch):
    path = tmp_path / "long.mp4"
    write_video(path, marked_clip(25), fps=1)  # 25 s: the samples are seconds apart
    converted = []
    original = decode.upright
    monkeypatch.setattr(
        decode, "upright", lambda frame: converted.append(frame.pts) or original(frame)
    )
    frames = read_clip(path, num_frames=4)
    levels = frames[:, 40, 32].mean(axis=-1)
    assert np.allclose(levels, [0, 80, 160, 240], atol=12)  # frames 0, 8, 16, 24
    assert len(converted) == 4
