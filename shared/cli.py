"""Command-line flags from a config dataclass, and the error handling every command shares.

One flag per field, spelled like the field (`--batch_size`); the default and type come from the
dataclass; booleans get `--x/--no-x`; tuples are comma-separated. Precedence: dataclass
defaults, then `--config FILE.json`, then flags. Errors are one line and exit with status 2.
"""

import argparse
import dataclasses
import functools
import sys
import types
import typing
from typing import Any
from typing import Callable
from typing import Optional
from typing import Sequence

from shared.config import field_types
from shared.config import load_config_file
from shared.errors import UserError


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """`--help` keeps the description's lines (its usage examples) and adds each flag's
    default, unless its help text already says what the default is."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if "default" in (action.help or "").lower():
            return action.help or ""
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are a single line on stderr, exit status 2, and that
    takes every flag only as spelled in full (`--epoch 1` is an error, not `--epochs 1`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _scalar_type(annotation: Any) -> Any:
    """`Optional[X]` -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _tuple_parser(item_type: type, name: str) -> Callable[[str], tuple]:
    def parse(text: str) -> tuple:
        items = [item.strip() for item in text.split(",") if item.strip()]
        try:
            return tuple(item_type(item) for item in items)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {item_type.__name__} values, got {text!r}"
            ) from None

    parse.__name__ = f"list of {item_type.__name__}"
    return parse


def _add_field(parser: argparse.ArgumentParser, field: dataclasses.Field, annotation: Any):
    flag = f"--{field.name}"
    meta = field.metadata
    kind = _scalar_type(annotation)
    # argparse expands "%" in help texts; a literal "%" (as in "1%") must be doubled.
    help_text = meta.get("help", "").replace("%", "%%")
    kwargs: dict[str, Any] = {"help": help_text, "default": field.default}
    if kind is bool:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
        return
    if typing.get_origin(kind) is tuple:
        kwargs["type"] = _tuple_parser(typing.get_args(kind)[0], field.name)
        kwargs["metavar"] = "A,B,..."
    else:
        kwargs["type"] = kind
        if meta.get("choices"):
            kwargs["choices"] = meta["choices"]
    parser.add_argument(flag, **kwargs)


def build_parser(
    cls: type, description: Optional[str], prog: Optional[str] = None
) -> ArgumentParser:
    """An argparse parser with one flag per field of the config dataclass `cls`."""
    parser = ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--config",
        metavar="FILE.json",
        help="Load a config.json first; flags given here override it",
    )
    types = field_types(cls)
    for field in dataclasses.fields(cls):
        _add_field(parser, field, types[field.name])
    return parser


def parse_config(
    cls: type,
    argv: Optional[Sequence[str]],
    description: Optional[str] = None,
    prog: Optional[str] = None,
) -> Any:
    """Parse `argv` into a frozen config of type `cls`; exits with status 2 on a bad flag."""
    parser = build_parser(cls, description, prog)
    argv = list(sys.argv[1:] if argv is None else argv)
    known, _ = parser.parse_known_args(argv)
    if known.config:
        try:
            parser.set_defaults(**load_config_file(cls, known.config))
        except ValueError as error:
            parser.error(str(error))
    values = vars(parser.parse_args(argv))
    values.pop("config")
    try:
        return cls(**values)
    except ValueError as error:
        parser.error(str(error))


# Config fields that say where the data come from; `evaluate` may point them elsewhere.
DATA_SOURCE_FIELDS = ("data_dir", "csv", "tfds_data_dir")


def run_parser(description: Optional[str], prog: str) -> ArgumentParser:
    """A parser of a command on a finished run: `--run_dir` so far."""
    parser = ArgumentParser(prog=prog, description=description)
    parser.add_argument("--run_dir", required=True, help="A finished run directory")
    return parser


def parse_evaluate(
    cls: type, argv: Optional[Sequence[str]], description: Optional[str], prog: str
) -> argparse.Namespace:
    """`evaluate`'s flags: `--run_dir` and the config's data-source fields."""
    parser = run_parser(description, prog)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in DATA_SOURCE_FIELDS:
        if name in fields:
            help_text = fields[name].metadata["help"]
            parser.add_argument(f"--{name}", help=f"Evaluate on other data. {help_text}")
    return parser.parse_args(argv)


def parse_predict(
    cls: type, argv: Optional[Sequence[str]], description: Optional[str], prog: str
) -> argparse.Namespace:
    """`predict`'s flags: `--run_dir`, the inputs the config class declares, and `--top` for
    a classifier of many classes."""
    parser = run_parser(description, prog)
    metavar, help_text = cls.PREDICT_INPUTS
    parser.add_argument("inputs", nargs="+", metavar=metavar, help=help_text)
    if cls.PREDICT_TOP:
        parser.add_argument("--top", type=int, default=3, help="Most probable classes to show")
    return parser.parse_args(argv)


def command(main: Callable[..., int]) -> Callable[..., int]:
    """Wrap a `main(argv)` so a `UserError` becomes one line on stderr and exit status 1."""

    @functools.wraps(main)
    def wrapper(argv: Optional[Sequence[str]] = None) -> int:
        try:
            return main(argv)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted: run the same command again to resume", file=sys.stderr)
            return 130

    return wrapper
