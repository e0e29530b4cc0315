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


# Seek (to the keyframe before) a sampled frame more than this many seconds ahead, instead of
# decoding every frame up to it.
SEEK_SECONDS = 2.0


def read_video(path: Path, num_frames: int, frame_step: int = 0) -> np.ndarray:
    """Sampled frames of a video file, by presentation time, turned upright.

    The frames are picked from the packets' timestamps (no decoding), then only those are
    converted to pixels, seeking past long stretches between them: memory holds the sampled
    frames, not the clip, and a long video is not decoded from end to end. Streams whose
    packets carry no timestamps are decoded once, keeping only the sampled frames.
    """
    import av  # imported here: only reading video files needs it

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ClipError("no video stream")
            stream = container.streams.video[0]
            stamps = packet_stamps(container, stream)
            if not stamps:
                raise ClipError("no frames")
            order = np.argsort(stamps, kind="stable")
            base = float(stream.time_base) if stream.time_base else 1.0
            times = np.asarray(stamps, np.float64)[order] * base
            picked = [stamps[i] for i in order[sample_times(times, num_frames, frame_step)]]
            gap = int(SEEK_SECONDS / base)
            frames = decode_stamps(container, stream, stamps, picked, gap)
    except ClipError:
        raise
    except Exception as error:  # PyAV raises FFmpegError subclasses, and IndexError on some
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ClipError(f"cannot decode ({type(error).__name__}: {first[:200]})") from None
    return np.stack([np.ascontiguousarray(frames[stamp]) for stamp in picked])


def packet_stamps(container, stream) -> list[int]:
    """Presentation timestamps of the stream's frames, read from its packets (demuxing, not
    decoding); when a packet has none, the frames' own timestamps (one decoding pass)."""
    stamps = []
    for packet in container.demux(stream):
        if packet.size == 0:  # the flush packet at the end
            continue
        if packet.pts is None:
            break
        stamps.append(int(packet.pts))
    else:
        return stamps
    seek(container, stream, 0)
    return [
        int(frame.pts) if frame.pts is not None else index
        for index, frame in enumerate(container.decode(stream))
    ]


def decode_stamps(
    container, stream, stamps: list[int], picked: list[int], gap: int
) -> dict[int, np.ndarray]:
    """Upright RGB pixels of the `picked` frames (timestamps among all the frames' `stamps`):
    decoding forward, seeking to the keyframe before a frame more than `gap` ahead; if seeking
    misses one, one pass from the start keeps the picked frames by their rank in time."""
    wanted, kept = set(picked), {}
    targets, next_target = sorted(wanted), 0
    while next_target < len(targets):
        sought = targets[next_target]
        seek(container, stream, sought)
        for frame in container.decode(stream):
            if frame.pts in wanted and frame.pts not in kept:
                kept[frame.pts] = upright(frame)
            while next_target < len(targets) and targets[next_target] in kept:
                next_target += 1
            if next_target == len(targets) or frame.pts is None:
                break
            # Far ahead (and past the frame sought last, so seeking makes progress): seek.
            if frame.pts >= sought and targets[next_target] - frame.pts > gap:
                break
        else:
            break  # the end of the stream
        if frame.pts is None:
            break
    if len(kept) < len(wanted):  # timestamps the decoder does not reproduce
        ranks = {rank: stamp for rank, stamp in enumerate(sorted(stamps)) if stamp in wanted}
        seek(container, stream, min(stamps))
        for rank, frame in enumerate(container.decode(stream)):  # presentation order
            if rank in ranks:
                kept[ranks[rank]] = upright(frame)
    return kept


def seek(container, stream, stamp: int) -> None:
    """Go to the keyframe at or before `stamp`, with the decoder emptied (it may have been
    flushed at the end of the file)."""
    container.seek(stamp, stream=stream, backward=True)
    stream.codec_context.flush_buffers()


def upright(frame) -> np.ndarray:
    """A decoded frame as RGB pixels, turned by the stream's rotation."""
    image = frame.to_ndarray(format="rgb24")
    rotation = int(round((frame.rotation or 0) / 90)) % 4
    return np.rot90(image, rotation) if rotation else image


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
