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


class ArgumentParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are a single line on stderr, exit status 2."""

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
    parser = ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
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
