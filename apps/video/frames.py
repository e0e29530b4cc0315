"""Which frames of a clip the model sees, and the frames it sees, in NumPy and TensorFlow.

A clip of `length` frames keeps all of them when `length <= num_frames`, else `num_frames`
frames spread evenly from the first to the last (`--frame_step k`: every k-th frame from the
start, up to `num_frames`). Video files are sampled by presentation time (`sample_times`), so
a variable frame rate does not bunch the samples; frame lists (folders, TFDS, served batches)
by index (`sample_indices`). For a constant frame rate both pick the same frames.

Served batches carry clips of different lengths padded with all-zero frames at the end:
`clip_lengths` counts each clip's frames up to its last frame with any non-zero pixel.
"""

import numpy as np
import tensorflow as tf

from shared.images import resize_and_crop

TIE_SECONDS = 1e-9  # instants this close to two frames are ties


def sample_indices(length: int, num_frames: int, frame_step: int = 0) -> np.ndarray:
    """Indices of the frames taken from a list of `length` frames."""
    if frame_step:
        return np.arange(0, length, frame_step)[:num_frames]
    if length <= num_frames:
        return np.arange(length)
    if num_frames == 1:
        return np.array([length // 2])  # the middle frame, rounding up as below
    positions = np.arange(num_frames) * (length - 1) / (num_frames - 1)
    return np.floor(positions + 0.5).astype(np.int64)


def sample_times(times: np.ndarray, num_frames: int, frame_step: int = 0) -> np.ndarray:
    """Indices of the frames (presentation `times` in seconds, increasing) nearest to
    `num_frames` instants spread evenly from the first frame to the last."""
    length = len(times)
    if frame_step or length <= num_frames:
        return sample_indices(length, num_frames, frame_step)
    if num_frames == 1:
        targets = np.array([(times[0] + times[-1]) / 2])
    else:
        targets = times[0] + np.arange(num_frames) * (times[-1] - times[0]) / (num_frames - 1)
    after = np.clip(np.searchsorted(times, targets, side="left"), 1, length - 1)
    before = after - 1
    # The nearer frame; on a tie (up to rounding) the later one, as `sample_indices` rounds
    # halves up.
    nearer_before = targets - times[before] < times[after] - targets - TIE_SECONDS
    return np.where(nearer_before, before, after)


def clip_lengths(frames: tf.Tensor) -> tf.Tensor:
    """int32 `[batch]`: frames up to the last one with a non-zero pixel, of uint8
    `[batch, frames, height, width, 3]`."""
    present = tf.reduce_any(tf.not_equal(frames, 0), axis=[2, 3, 4])
    positions = tf.range(1, tf.shape(frames)[1] + 1)
    return tf.reduce_max(tf.where(present, positions[tf.newaxis], 0), axis=1)


def sample_indices_tf(lengths: tf.Tensor, num_frames: int, frame_step: int = 0) -> tf.Tensor:
    """`sample_indices` of each clip: int32 `[batch, taken]` (padded with 0) and the counts
    taken `[batch]`."""
    lengths = tf.cast(lengths, tf.int32)
    slots = tf.range(num_frames)[tf.newaxis]
    if frame_step:
        counts = tf.minimum((lengths + frame_step - 1) // frame_step, num_frames)
        indices = slots * frame_step
    else:
        counts = tf.minimum(lengths, num_frames)
        whole = tf.broadcast_to(slots, [tf.shape(lengths)[0], num_frames])
        if num_frames == 1:
            spread = tf.broadcast_to((lengths // 2)[:, tf.newaxis], tf.shape(whole))
        else:
            step = tf.cast(lengths - 1, tf.float64)[:, tf.newaxis] / (num_frames - 1)
            spread = tf.cast(tf.floor(tf.cast(slots, tf.float64) * step + 0.5), tf.int32)
        indices = tf.where((lengths > num_frames)[:, tf.newaxis], spread, whole)
    indices = tf.where(slots < counts[:, tf.newaxis], indices, 0)
    return indices, counts


def model_frames(
    frames: tf.Tensor, num_frames: int, frame_step: int, size: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """What the model takes from a served batch: uint8 `[batch, num_frames, size, size, 3]`
    (sampled, resized, centre-cropped, zero after each clip's end) and the frame counts."""
    indices, counts = sample_indices_tf(clip_lengths(frames), num_frames, frame_step)
    taken = tf.gather(frames, indices, batch_dims=1)
    batch = tf.shape(taken)[0]
    height, width = tf.shape(taken)[2], tf.shape(taken)[3]
    flat = tf.reshape(taken, [batch * num_frames, height, width, 3])
    pixels = tf.reshape(resize_and_crop(flat, size), [batch, num_frames, size, size, 3])
    present = tf.range(num_frames)[tf.newaxis] < counts[:, tf.newaxis]
    pixels = tf.where(present[:, :, tf.newaxis, tf.newaxis, tf.newaxis], pixels, 0)
    return pixels, counts
