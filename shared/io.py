"""Atomic writes: every artifact goes to a temporary sibling first, then `os.replace`.

An interrupted run therefore never leaves a half-written `metrics.json`, checkpoint or plot:
readers see the previous complete file or the new complete file.
"""

import contextlib
import io
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any
from typing import Iterator
from typing import Optional

from shared.errors import UserError


@contextlib.contextmanager
def atomic_path(path: os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`, else delete it.

    The temporary name keeps the final name as its suffix (`.tmp-123-best.keras`), so writers
    that check extensions (Keras wants `.keras`, `.weights.h5`) accept it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{os.getpid()}-{path.name}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_text(path: os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def write_json(path: os.PathLike, value: Any) -> None:
    write_text(path, json.dumps(value, indent=2, sort_keys=True, default=_jsonable) + "\n")


def read_user_text(path: os.PathLike) -> str:
    """A UTF-8 file given by the user; a `UserError` naming it if unreadable or not UTF-8."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as error:
        raise UserError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text (invalid byte at offset {error.start})") from None


# `predict` reads an argument as a file path when it names one of these (or has a "/").
TEXT_FILE_SUFFIXES = (".txt", ".text", ".tsv", ".csv", ".md", ".json")


def text_argument(item: str) -> Optional[Path]:
    """A `predict` argument that is either text or a text file: the file's path, `None` for
    text. An argument without spaces that looks like a path (a "/" in it, or a `.txt`-like
    suffix) and names no file is a `UserError`, not text to translate or classify."""
    path = Path(item)
    try:
        if path.is_file():
            return path
        if path.is_dir():
            raise UserError(f"{item}: a folder; give the text files in it")
    except OSError:  # no possible file name (a long text)
        return None
    looks_like_path = "/" in item or path.suffix.lower() in TEXT_FILE_SUFFIXES
    if looks_like_path and not any(c.isspace() for c in item):
        raise UserError(f"{item}: no such file (text to read as is has a space in it)")
    return None


def read_json(path: os.PathLike) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays to plain Python for `json.dumps`."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def save_model(model: Any, path: os.PathLike) -> None:
    """`model.save` to a `.keras` file, atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def save_weights(model: Any, path: os.PathLike) -> None:
    """`model.save_weights` (model and optimizer variables) to `.weights.h5`, atomically."""
    with atomic_path(path) as tmp:
        model.save_weights(tmp)


def layer_to_bytes(layer: Any) -> bytes:
    """A Keras layer (config, weights and assets) as the bytes of a `.keras` archive."""
    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # a preprocessor is not "built" as a model is
        warnings.simplefilter("ignore", UserWarning)
        saving_lib.save_model(layer, buffer)
    return buffer.getvalue()


def layer_from_bytes(data: bytes) -> Any:
    """The layer that `layer_to_bytes` wrote (its class must be registered)."""
    from keras.src.saving import saving_lib

    return saving_lib.load_model(io.BytesIO(data), compile=False)
