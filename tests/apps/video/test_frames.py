"""Frame sampling (NumPy, TensorFlow, by time), clip lengths and the frames the model sees."""

import numpy as np
import pytest
import tensorflow as tf

from apps.video.frames import clip_lengths
from apps.video.frames import model_frames
from apps.video.frames import sample_indices
from apps.video.frames import sample_indices_tf
from apps.video.frames import sample_times


@pytest.mark.parametrize("num_frames,frame_step", [(1, 0), (4, 0), (16, 0), (4, 3), (5, 2)])
def test_graph_file_and_time_sampling_agree_at_a_constant_rate(num_frames, frame_step):
    lengths = np.arange(1, 50)
    indices, counts = sample_indices_tf(tf.constant(lengths), num_frames, frame_step)
    for length, row, count in zip(lengths, indices.numpy(), counts.numpy()):
        expected = sample_indices(length, num_frames, frame_step)
        assert list(row[:count]) == list(expected), length
        assert not row[count:].any()
        for fps in (10, 25, 29.97):
            assert list(sample_times(np.arange(length) / fps, num_frames, frame_step)) == list(
                expected
            )


def test_sampling_spreads_over_the_clip_and_never_loops():
    assert list(sample_indices(30, 4)) == [0, 10, 19, 29]
    assert list(sample_indices(3, 8)) == [0, 1, 2]  # short clips keep their frames, no repeats
    assert list(sample_indices(30, 4, frame_step=5)) == [0, 5, 10, 15]


def test_a_variable_frame_rate_is_sampled_by_time_not_by_index():
    # Ten quick frames in the first second, then one frame per second up to 5 s.
    times = np.concatenate([np.arange(10) * 0.1, [2.0, 3.0, 4.0, 5.0]])
    assert list(sample_times(times, 3)) == [0, 11, 13]  # 0 s, 2.5 s -> 3 s (tie: later), 5 s
    assert list(sample_indices(len(times), 3)) == [0, 7, 13]  # by index: bunched at the start


def test_a_clip_ends_at_its_last_frame_with_a_non_zero_pixel():
    frames = np.zeros((3, 6, 4, 5, 3), np.uint8)
    frames[0, :2] = 1
    frames[1, :6] = 1
    frames[1, 2] = 0  # a black frame inside a clip is still part of it
    assert clip_lengths(tf.constant(frames)).numpy().tolist() == [2, 6, 0]


@pytest.mark.parametrize("height,width", [(48, 96), (96, 48), (47, 95), (32, 32)])
def test_model_frames_are_centre_crops_of_any_frame_size(height, width):
    frames = np.zeros((1, 3, height, width, 3), np.uint8)
    frames[..., 0] = 200
    # A stripe at one end of the long side, well outside the square centre crop.
    stripe = abs(width - height) // 8
    if width > height:
        frames[:, :, :, :stripe, 1] = 255
    elif height > width:
        frames[:, :, :stripe, :, 1] = 255
    pixels, counts = model_frames(tf.constant(frames), 4, 0, 16)
    assert pixels.shape == (1, 4, 16, 16, 3) and counts.numpy().tolist() == [3]
    pixels = pixels.numpy()
    assert (pixels[0, :3, ..., 0] == 200).all() and pixels[0, 3].max() == 0
    assert pixels[0, :3, ..., 1].max() <= 1  # the stripe was cropped away, not squeezed in
