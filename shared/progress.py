"""Progress bars for the long one-time passes (decoding, tokenizing, feature extraction)."""

import sys
from typing import Optional

import keras


def progress_bar(total: Optional[int], unit: str) -> keras.utils.Progbar:
    """A live bar on a terminal; in a log file, one line at the end (`total` None: unknown)."""
    return keras.utils.Progbar(total, verbose=1 if sys.stdout.isatty() else 2, unit_name=unit)
