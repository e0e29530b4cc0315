"""Generated motion clips: a shape moves left, right, up or down, grows or shrinks.

The classes come in time-reversed pairs (left/right, up/down, growing/shrinking): the frames of
a clip and of its reversal are alike, only their order differs, so a model that averages its
frames over time cannot tell a pair apart, and one that models time can. Clips are named like
UCF101's (`v_<class>_g<group>_c<clip>`): the clips of a group share a noisy background and its
static distractor shapes. Each clip is an `.mp4` (H.264), an `.avi` (MPEG-4 part 2) or a folder
of PNG frames, with 10-36 frames, at one of several frame sizes (4:3, portrait, odd).

Used by the video tests and by `benchmarks/video.py` (the acceptance set of the video issue).
"""

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("down", "growing", "left", "right", "shrinking", "up")
REVERSED_PAIRS = (("left", "right"), ("up", "down"), ("growing", "shrinking"))
FORMATS = ("mp4", "avi", "frames")
# Frame sizes (width, height): 4:3, portrait, 16:9; video codecs need even sides (4:2:0).
VIDEO_SIZES = ((64, 48), (96, 72), (48, 64), (80, 46))
ODD_SIZES = ((63, 47), (49, 65))  # frame folders only


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A group's scene: a colour gradient with noise, and one or two static distractor shapes."""
    base = rng.integers(40, 200, 3)
    ramp = np.linspace(-30, 30, width)[None, :, None] * rng.choice([-1, 1])
    image = base[None, None, :] + ramp + rng.normal(0, 12, (height, width, 3))
    for _ in range(rng.integers(1, 3)):
        colour = rng.integers(0, 256, 3)
        side = int(min(width, height) * rng.uniform(0.1, 0.2))
        x, y = rng.integers(0, width - side), rng.integers(0, height - side)
        image[y : y + side, x : x + side] = colour
    return np.clip(image, 0, 255)


def draw_clip(rng: np.random.Generator, scene: np.ndarray, kind: str, frames: int) -> np.ndarray:
    """uint8 `[frames, height, width, 3]`: the shape of `kind` moving over `scene`."""
    height, width = scene.shape[:2]
    short = min(width, height)
    colour = rng.integers(0, 256, 3)
    while np.abs(colour - scene.mean((0, 1))).max() < 80:  # visible against the scene
        colour = rng.integers(0, 256, 3)
    progress = np.linspace(0.0, 1.0, frames)
    if kind in ("growing", "shrinking"):
        small, large = short * rng.uniform(0.08, 0.12), short * rng.uniform(0.3, 0.4)
        radii = small + (large - small) * (progress if kind == "growing" else 1 - progress)
        centres = [(width * rng.uniform(0.4, 0.6), height * rng.uniform(0.4, 0.6))] * frames
    else:
        radius = short * rng.uniform(0.1, 0.15)
        radii = np.full(frames, radius)
        horizontal = kind in ("left", "right")
        extent = width if horizontal else height
        start, end = extent * rng.uniform(0.15, 0.3), extent * rng.uniform(0.7, 0.85)
        if kind in ("left", "up"):
            start, end = end, start
        along = start + (end - start) * progress
        across = (height if horizontal else width) * rng.uniform(0.3, 0.7)
        centres = [(a, across) if horizontal else (across, a) for a in along]
    ys, xs = np.mgrid[0:height, 0:width]
    clip = np.empty((frames, height, width, 3), np.uint8)
    for index, ((cx, cy), radius) in enumerate(zip(centres, radii)):
        image = scene + rng.normal(0, 6, scene.shape)  # sensor noise, new in every frame
        inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2
        image[inside] = colour
        clip[index] = np.clip(image, 0, 255).astype(np.uint8)
    return clip


def write_video(path: Path, clip: np.ndarray, fps: int) -> None:
    """An .mp4 (H.264) or .avi (MPEG-4 part 2) file of `clip`, with PyAV."""
    import av

    codec = "libx264" if path.suffix == ".mp4" else "mpeg4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = clip.shape[1:3]
        stream.pix_fmt = "yuv420p"
        if codec == "mpeg4":
            stream.bit_rate = 2_000_000
        for image in clip:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_frames(folder: Path, clip: np.ndarray) -> None:
    """A folder of PNG frames named frame_1.png ... (unpadded numbers: order by number)."""
    folder.mkdir(parents=True)
    for index, image in enumerate(clip, start=1):
        Image.fromarray(image).save(folder / f"frame_{index}.png")


def write_motion(
    root: Path,
    counts: dict[str, int],
    *,
    classes: tuple[str, ...] = CLASSES,
    group_size: int = 5,
    frames: tuple[int, int] = (10, 36),
    formats: tuple[str, ...] = FORMATS,
    seed: int = 0,
) -> Path:
    """`root/<split>/<class>/<clip>` with `counts[split]` clips per class; groups never span
    splits. Returns `root`."""
    rng = np.random.default_rng(seed)
    first_group = 1
    for split, per_class in counts.items():
        for kind in classes:
            # As in UCF101, group numbers restart for every class: g03 of two classes are two
            # different scenes, and holding out g03 holds out a scene of every class.
            for group, start in enumerate(range(0, per_class, group_size), start=first_group):
                sizes = VIDEO_SIZES + (ODD_SIZES if "frames" in formats else ())
                width, height = sizes[rng.integers(len(sizes))]
                scene = background(rng, width, height)
                for number in range(start, min(start + group_size, per_class)):
                    fmt = formats[rng.integers(len(formats))]
                    if (width % 2 or height % 2) and fmt != "frames":
                        fmt = "frames"
                    clip = draw_clip(rng, scene, kind, int(rng.integers(frames[0], frames[1] + 1)))
                    name = f"v_{kind}_g{group:02d}_c{number - start + 1:02d}"
                    folder = root / split / kind
                    folder.mkdir(parents=True, exist_ok=True)
                    if fmt == "frames":
                        write_frames(folder / name, clip)
                    else:
                        write_video(folder / f"{name}.{fmt}", clip, int(rng.integers(10, 31)))
        first_group += -(-per_class // group_size)
    return root


def reversed_pair_accuracy(confusion: list[list[int]], class_names: tuple[str, ...]) -> dict:
    """Within each reversed pair: of the clips of either class predicted as either, the share
    predicted right (0.5 is chance)."""
    matrix = np.asarray(confusion)
    result = {}
    for a, b in REVERSED_PAIRS:
        if a in class_names and b in class_names:
            i, j = class_names.index(a), class_names.index(b)
            right, wrong = matrix[i, i] + matrix[j, j], matrix[i, j] + matrix[j, i]
            result[f"{a}/{b}"] = round(float(right / max(right + wrong, 1)), 4)
    return result
