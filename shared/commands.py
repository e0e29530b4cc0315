"""The `train`, `evaluate` and `predict` commands of every app, with their flags parsed before
TensorFlow is imported: a mistyped flag is answered at once, not after TensorFlow's start-up.

`apps/<app>/train.py` is `main = app_command("<app>", "train", __doc__)`.
"""

import contextlib
import importlib
import inspect
import logging
import os
import re
import sys
import tempfile
from typing import Any
from typing import Callable
from typing import Iterator
from typing import Optional
from typing import Sequence

import shared
from shared.cli import command
from shared.cli import parse_config
from shared.cli import parse_evaluate
from shared.cli import parse_predict
from shared.config import BaseConfig

PARSERS = {"train": parse_config, "evaluate": parse_evaluate, "predict": parse_predict}
# What TensorFlow's C++ code writes to stderr before its logging is set up (`TF_CPP_MIN_LOG_LEVEL`
# does not reach these): "I0000 00:00:17966.. 30909 port.cc:153] oneDNN custom operations..."
NATIVE_LOG_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\]|WARNING: All log messages before absl::"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate|fully_quantize: \d)"
)


def app_class(app: str, module: str, base: type) -> type:
    """The subclass of `base` that `apps/<app>/<module>.py` defines (not one it imports)."""
    found = importlib.import_module(f"apps.{app}.{module}")
    (cls,) = [
        value
        for value in vars(found).values()
        if inspect.isclass(value) and issubclass(value, base) and value.__module__ == found.__name__
    ]
    return cls


def config_class(app: str) -> type:
    """The app's config dataclass, from `apps/<app>/config.py` (no TensorFlow import)."""
    return app_class(app, "config", BaseConfig)


def load_task(app: str) -> Any:
    """The app's `shared.task.Task`, from `apps/<app>/task.py` (imports TensorFlow)."""
    from shared.task import Task

    return app_class(app, "task", Task)()


@contextlib.contextmanager
def native_logs_hidden() -> Iterator[None]:
    """Drop TensorFlow's C++ start-up lines from stderr while inside (everything else written
    there passes), unless the user set `TF_CPP_MIN_LOG_LEVEL`."""
    if shared.USER_TF_LOG_LEVEL is not None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not NATIVE_LOG_LINE.match(line)))


class _NoFallbackNotices(logging.Filter):
    """Drops "Using a while_loop for converting <op>": `tf.vectorized_map` telling that a
    random op in a `tf.data` map runs in a loop, printed on every run, nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Using a while_loop for converting")


def start_tensorflow() -> None:
    """Import TensorFlow and look for GPUs (where its start-up lines are written), quietly."""
    with native_logs_hidden():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    if shared.USER_TF_LOG_LEVEL is None:
        tf.get_logger().addFilter(_NoFallbackNotices())


def app_command(app: str, name: str, description: str) -> Callable[..., int]:
    """`main(argv)` of `python -m apps.<app>.<name>`: parse, start TensorFlow, run."""

    @command
    def main(argv: Optional[Sequence[str]] = None) -> int:
        prog = f"python -m apps.{app}.{name}"
        args = PARSERS[name](config_class(app), argv, description, prog=prog)
        start_tensorflow()
        from shared import runner

        return getattr(runner, f"run_{name}")(load_task(app), args)

    main.__doc__ = description
    return main
