"""Test options: slow tests run only with --run_slow (as in keras-hub)."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--run_slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run_slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run_slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
