"""Test options: slow tests run only with --run_slow (as in keras-hub); caches in a temporary
folder (set before any app is imported, so every --cache_dir default points there)."""

import os
import tempfile

import pytest

os.environ.setdefault("RNN_SUITE_CACHE", tempfile.mkdtemp(prefix="rnn-suite-test-cache-"))


def pytest_addoption(parser):
    parser.addoption("--run_slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run_slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run_slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
