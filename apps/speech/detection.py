"""Keywords in a stream: posteriors smoothed over time, a threshold and a refractory period.

The streaming model gives, after every hop, the class probabilities of the last clip heard.
A word stays in that window for about a clip's length, so its class stays probable for many
hops: `detect` averages the posteriors over the last `smoothing` seconds, reports a keyword
when its smoothed probability reaches `threshold`, and then stays silent for `refractory`
seconds. A classifier trained on words alone (no silence or background class) names a word
for any noise too: `sound_gate` lets a detection through only while the last clip heard
rises above the recording's recent noise floor. `compose_recording` and `score` measure a
detector on clips of known labels.
"""

import dataclasses
from typing import Sequence

import numpy as np

# The detector's defaults (`stream`'s flags): reasoned, not tuned on a test speaker.
THRESHOLD = 0.7  # smoothed probability that reports a keyword
SMOOTHING = 0.2  # seconds of posteriors averaged
REFRACTORY = 1.0  # seconds without a report after one: a word stays in the window a clip long
GATE_DB = 10.0  # how far the last clip must rise above the noise floor
FLOOR_SECONDS = 3.0  # the window of the noise-floor estimate


@dataclasses.dataclass(frozen=True)
class Detection:
    """A keyword heard: `time` is the end of the hop (seconds from the start) that set it off."""

    time: float
    label: str
    score: float


def detect(
    probabilities: np.ndarray,
    hop_seconds: float,
    class_names: Sequence[str],
    *,
    threshold: float = THRESHOLD,
    smoothing: float = SMOOTHING,
    refractory: float = REFRACTORY,
    ignore: Sequence[str] = (),
    gate: np.ndarray | None = None,
) -> list[Detection]:
    """Detections in posteriors `[hops, classes]`, one row per hop (see the module doc).

    `ignore` names classes never reported (e.g. `_silence_`, `_unknown_`); `gate` (bool
    `[hops]`, from `sound_gate`) the hops that may report one: the others count as zero
    probability in the smoothing too.
    """
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_names):
        raise ValueError(
            f"probabilities must be [hops, {len(class_names)}], got {probabilities.shape}"
        )
    window = max(1, int(round(smoothing / hop_seconds)))
    if gate is not None:  # what was heard in noise alone is no evidence for a word
        probabilities = np.where(gate[:, None], probabilities, 0.0)
    cumulative = np.cumsum(np.pad(probabilities, [(1, 0), (0, 0)]), axis=0)
    starts = np.maximum(np.arange(len(probabilities)) + 1 - window, 0)
    ends = np.arange(len(probabilities)) + 1
    smoothed = (cumulative[ends] - cumulative[starts]) / (ends - starts)[:, None]
    allowed = np.array([name not in ignore for name in class_names])
    smoothed = np.where(allowed[None, :], smoothed, 0.0)
    found, quiet_until = [], -np.inf
    for hop, row in enumerate(smoothed):
        time = (hop + 1) * hop_seconds
        if gate is not None and not gate[hop]:
            continue
        best = int(np.argmax(row))
        if row[best] >= threshold and time >= quiet_until:
            found.append(Detection(round(time, 3), class_names[best], round(float(row[best]), 4)))
            quiet_until = time + refractory
    return found


def hop_levels(audio: np.ndarray, hop_samples: int) -> np.ndarray:
    """The level of each hop of `audio` in dB (RMS; digital silence about -200)."""
    hops = len(audio) // hop_samples
    frames = np.asarray(audio[: hops * hop_samples], np.float64).reshape(hops, hop_samples)
    return 20.0 * np.log10(np.sqrt(np.mean(np.square(frames), axis=1)) + 1e-10)


def sound_gate(
    levels: np.ndarray, clip_hops: int, floor_hops: int, gate_db: float = GATE_DB
) -> np.ndarray:
    """True at the hops where the loudest hop of the last `clip_hops` stands `gate_db` above
    the noise floor before them: the quietest hop of the `floor_hops` that end `clip_hops`
    earlier (in the first clip-length, of those so far). So a word opens the gate for a
    clip-length; steady noise, a drop in the noise and digital silence do not."""
    loudest = _trailing(levels, clip_hops, np.max, -np.inf)
    floor = _trailing(levels, floor_hops, np.min, np.inf)
    before = np.concatenate([floor[:clip_hops], floor[: max(0, len(floor) - clip_hops)]])
    return (loudest >= before + gate_db) & (loudest > -100.0)


def _trailing(values: np.ndarray, window: int, reduce, fill: float) -> np.ndarray:
    """`reduce` over each value and the `window - 1` before it (fewer at the start)."""
    if not len(values):
        return np.asarray(values, float)
    padded = np.concatenate([np.full(window - 1, fill), values])
    return reduce(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


def detect_in_recording(
    posteriors: np.ndarray,
    audio: np.ndarray,
    info: dict,
    *,
    gate_db: float = GATE_DB,
    floor_seconds: float = FLOOR_SECONDS,
    **settings,
) -> list[Detection]:
    """`detect` over a recording's posteriors (one row per hop of `audio`), gated by
    `sound_gate` unless `gate_db` is 0. `info` holds `sample_rate`, `hop_samples`,
    `clip_samples` and `class_names` (the `lite.json` of `apps.speech.export_lite`)."""
    hop = info["hop_samples"]
    hop_seconds = hop / info["sample_rate"]
    gate = None
    if gate_db:
        levels = hop_levels(np.pad(audio, (0, max(0, len(posteriors) * hop - len(audio)))), hop)
        clip_hops = int(round(info["clip_samples"] / hop))
        floor_hops = max(1, int(round(floor_seconds / hop_seconds)))
        gate = sound_gate(levels, clip_hops, floor_hops, gate_db)
    return detect(posteriors, hop_seconds, info["class_names"], gate=gate, **settings)


@dataclasses.dataclass(frozen=True)
class Event:
    """A clip placed in a composed recording: `start` and `end` in seconds."""

    start: float
    end: float
    label: str


def compose_recording(
    clips: Sequence[np.ndarray],
    labels: Sequence[str],
    sample_rate: int,
    *,
    seed: int = 0,
    gap: tuple[float, float] = (0.5, 1.5),
    noise: tuple[float, float] = (0.0, 0.02),
) -> tuple[np.ndarray, list[Event]]:
    """The clips one after another with `gap` seconds (uniform) between them, under Gaussian
    noise of one standard deviation drawn from `noise` (0: digital silence between the clips);
    returns the waveform and where each clip is."""
    rng = np.random.default_rng(seed)
    parts, events, position = [], [], 0
    for clip, label in zip(clips, labels):
        pause = np.zeros(int(rng.uniform(*gap) * sample_rate), np.float32)
        parts += [pause, np.asarray(clip, np.float32)]
        start = position + len(pause)
        events.append(Event(start / sample_rate, (start + len(clip)) / sample_rate, label))
        position = start + len(clip)
    parts.append(np.zeros(int(gap[1] * sample_rate), np.float32))
    audio = np.concatenate(parts)
    level = rng.uniform(*noise)
    audio = audio + rng.normal(0.0, 1.0, len(audio)).astype(np.float32) * level
    return np.clip(audio, -1.0, 1.0).astype(np.float32), events


def score(detections: Sequence[Detection], events: Sequence[Event], latest: float = 1.0) -> dict:
    """Precision and recall of detections against known events: a detection is right when it
    names an event's label between the event's start and `latest` seconds after its end, and
    each event counts once."""
    matched, right = set(), 0
    for detection in detections:
        for index, event in enumerate(events):
            if (
                index not in matched
                and event.label == detection.label
                and event.start <= detection.time <= event.end + latest
            ):
                matched.add(index)
                right += 1
                break
    return {
        "events": len(events),
        "detections": len(detections),
        "right": right,
        "precision": round(right / len(detections), 4) if detections else 0.0,
        "recall": round(right / len(events), 4) if events else 0.0,
    }
