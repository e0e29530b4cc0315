"""The value that masked scores are set to before a softmax or a max."""

import numpy as np
from keras import backend


def masked_score(dtype) -> float:
    """A large negative that stays finite in `dtype`.

    `-1e9` overflows to `-inf` in float16 (mixed precision), where `-inf - -inf` is NaN; half
    the type's largest value is still far below any real score.
    """
    return -min(1e9, 0.5 * float(np.finfo(backend.standardize_dtype(dtype)).max))
