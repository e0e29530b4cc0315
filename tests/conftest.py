"""Test options: slow tests run only with --run_slow (as in keras-hub); caches in a temporary
folder (set before any app is imported, so every --cache_dir default points there); one
TensorFlow op thread per process."""

import os
import tempfile

import pytest

os.environ.setdefault("RNN_SUITE_CACHE", tempfile.mkdtemp(prefix="rnn-suite-test-cache-"))
# One TensorFlow op thread per process (and per process it starts): the suite runs two
# processes on two cores, and two thread pools per core spinning for work made it ~15% slower.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")


def pytest_addoption(parser):
    parser.addoption("--run_slow", action="store_true", help="also run tests marked slow")


# The files that take longest (seconds of one process, measured on 2 cores), run first: with
# whole files per process (`--dist loadfile`), a long file started last keeps one process busy
# while the other waits, which cost the suite ~10% of its time.
LONGEST_FIRST = (
    "tests/tuning/test_search.py",
    "tests/gpu_path_test.py",
    "tests/apps/sentiment/test_multi_worker.py",
    "tests/apps/captioning/test_train.py",
    "tests/apps/translation/test_train.py",
    "tests/apps/weather/test_multi_worker.py",
    "tests/apps/video/test_train.py",
    "tests/apps/speech/test_train.py",
    "tests/apps/sentiment/test_train.py",
    "tests/apps/weather/test_train.py",
)


def longest_first(item) -> int:
    path = item.nodeid.split("::")[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config, items):
    items.sort(key=longest_first)  # stable: a file's tests keep their order
    if config.getoption("--run_slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run_slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
