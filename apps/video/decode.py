"""Clips from disk: video files decoded with PyAV, folders of frame images, sampled frames.

PyAV (the FFmpeg bindings) is the decoder: its wheels ship FFmpeg with the common codecs
(H.264, MPEG-4, VP8/9, MJPEG, ...) and it gives each frame's presentation time and the stream's
rotation, which variable-frame-rate and phone videos need. `read_clip` returns only the sampled
frames, upright, at their own size; `apps.video.frames.model_frames` resizes them.
"""

import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from apps.video.frames import sample_indices
from apps.video.frames import sample_times
from shared.images import decode_image

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv")
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


class ClipError(ValueError):
    """A clip that cannot be read: no frames, undecodable, unreadable."""


def is_clip(path: Path) -> bool:
    """A video file or a folder of frame images (folders may be empty: reading says so)."""
    return path.is_dir() or (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES)


def read_clip(path: Path, num_frames: int, frame_step: int = 0) -> np.ndarray:
    """The sampled frames of a clip, uint8 `[taken, height, width, 3]`; `ClipError` says why
    there are none."""
    if path.is_dir():
        return read_frame_folder(path, num_frames, frame_step)
    return read_video(path, num_frames, frame_step)


def read_video(path: Path, num_frames: int, frame_step: int = 0) -> np.ndarray:
    """Sampled frames of a video file, by presentation time, turned upright."""
    import av  # imported here: only reading video files needs it

    frames, times = [], []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ClipError("no video stream")
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                image = frame.to_ndarray(format="rgb24")
                rotation = int(round((frame.rotation or 0) / 90)) % 4
                frames.append(np.rot90(image, rotation) if rotation else image)
                times.append(frame.time if frame.time is not None else len(times))
    except ClipError:
        raise
    except Exception as error:  # PyAV raises FFmpegError subclasses, and IndexError on some
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ClipError(f"cannot decode ({type(error).__name__}: {first[:200]})") from None
    if not frames:
        raise ClipError("no frames")
    times = np.asarray(times, np.float64)
    order = np.argsort(times, kind="stable")  # decoders emit presentation order; be sure
    picked = order[sample_times(times[order], num_frames, frame_step)]
    return np.stack([np.ascontiguousarray(frames[i]) for i in picked])


def frame_files(folder: Path) -> list[Path]:
    """The frame images of a folder in the order of the number in their names."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]

    def key(path: Path):
        numbers = re.findall(r"\d+", path.stem)
        return (int(numbers[-1]) if numbers else -1, path.name)

    return sorted(files, key=key)


_decode = tf.function(decode_image, input_signature=[tf.TensorSpec([], tf.string)])


def read_frame_folder(folder: Path, num_frames: int, frame_step: int = 0) -> np.ndarray:
    """Sampled frames of a folder of images (only the sampled ones are decoded)."""
    files = frame_files(folder)
    if not files:
        raise ClipError("no frame images (.jpg, .png)")
    picked = sample_indices(len(files), num_frames, frame_step)
    return decode_frames([files[i].read_bytes() for i in picked])


def decode_frames(encoded: list[bytes]) -> np.ndarray:
    """JPEG/PNG frames of one clip, uint8 `[frames, height, width, 3]`; all the same size."""
    images = []
    for data in encoded:
        try:
            images.append(_decode(tf.constant(data)).numpy())
        except tf.errors.OpError:
            raise ClipError("a frame is not a decodable JPEG or PNG") from None
    sizes = {image.shape for image in images}
    if len(sizes) > 1:
        raise ClipError(f"frames of different sizes {sorted(sizes)}")
    return np.stack(images)
