"""Search spaces: `name=values` clauses over an app's config fields, as Keras Tuner parameters.

A space is written as text, one clause per hyperparameter, separated by `;`:

    units=32,64,128            a choice among values
    learning_rate=1e-4..1e-2:log   a range (float or int, from the field's type), `:log` sampled
    num_layers=1..3            an int range (step 1; `1..7:2` for steps of 2)
    cell=gru                   one value: fixed for the whole search

Names are config field names; every value is checked against the field's type, choices and
bounds, so a typo or an impossible range is an error naming the clause, before any trial.
Apps declare their default space next to their config (`SEARCH_SPACE` in `config.py`);
`--space` overrides or narrows clauses of it.
"""

import dataclasses
from typing import Any
from typing import Optional

import keras_tuner

from shared.config import field_types


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One hyperparameter: `values` (a choice or a fixed value) or a `low..high` range."""

    name: str
    values: tuple = ()
    low: Optional[float] = None
    high: Optional[float] = None
    step: Optional[float] = None
    log: bool = False

    def add_to(self, hp: keras_tuner.HyperParameters) -> Any:
        """Declare this dimension on `hp` (Keras Tuner's own parameter kinds)."""
        if self.low is None:
            if len(self.values) == 1:
                return hp.Fixed(self.name, self.values[0])
            if all(isinstance(v, bool) for v in self.values):
                return hp.Boolean(self.name)
            return hp.Choice(self.name, list(self.values))
        sampling = "log" if self.log else "linear"
        if isinstance(self.low, int) and isinstance(self.high, int):
            return hp.Int(self.name, self.low, self.high, step=self.step or 1, sampling=sampling)
        return hp.Float(self.name, self.low, self.high, step=self.step, sampling=sampling)


class SpaceError(ValueError):
    """A search-space clause that names no field or holds impossible values."""


def parse_space(text: str, config_class: type) -> dict[str, Dimension]:
    """The dimensions of `text` (clauses as in the module docstring) for `config_class`."""
    types = field_types(config_class)
    dimensions = {}
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        name, sep, spec = (part.strip() for part in clause.partition("="))
        if not sep or not spec:
            raise SpaceError(f"--space {clause!r}: write name=values (e.g. units=32,64)")
        if name not in types:
            known = ", ".join(sorted(types))
            raise SpaceError(
                f"--space {clause!r}: {config_class.APP} has no field {name!r} ({known})"
            )
        kind = _scalar(types[name])
        dimensions[name] = _dimension(name, spec, kind, clause)
        _check_values(config_class, dimensions[name], clause)
    return dimensions


def _scalar(annotation: Any) -> type:
    for kind in (bool, int, float, str):
        if annotation is kind:
            return kind
    raise SpaceError(f"fields of type {annotation} cannot be searched")


def _convert(text: str, kind: type, clause: str) -> Any:
    text = text.strip()
    try:
        if kind is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        return text
    except ValueError:
        raise SpaceError(f"--space {clause!r}: {text!r} is not a {kind.__name__}") from None


def _dimension(name: str, spec: str, kind: type, clause: str) -> Dimension:
    if ".." not in spec:
        values = tuple(_convert(v, kind, clause) for v in spec.split(","))
        if len(set(values)) != len(values):
            raise SpaceError(f"--space {clause!r}: a value is repeated")
        return Dimension(name, values)
    if kind not in (int, float):
        raise SpaceError(f"--space {clause!r}: a range needs a numeric field")
    spec, _, option = spec.partition(":")
    low, _, high = spec.partition("..")
    low, high = _convert(low, kind, clause), _convert(high, kind, clause)
    if not low < high:
        raise SpaceError(f"--space {clause!r}: the range must go from low to high")
    log, step = option == "log", None
    if option and not log:
        step = _convert(option, kind, clause)
        if step <= 0:
            raise SpaceError(f"--space {clause!r}: the step must be positive")
    if log and low <= 0:
        raise SpaceError(f"--space {clause!r}: a log range must start above 0")
    return Dimension(name, (), low, high, step, log)


def _check_values(config_class: type, dimension: Dimension, clause: str) -> None:
    """Build the default config with each extreme value: its own checks name what is wrong."""
    values = dimension.values or (dimension.low, dimension.high)
    for value in values:
        try:
            config_class(**{dimension.name: value})
        except ValueError as error:
            raise SpaceError(f"--space {clause!r}: {error}") from None


def merge(default: dict[str, Dimension], override: dict[str, Dimension]) -> dict[str, Dimension]:
    """The app's default dimensions with `--space` clauses replacing or adding some."""
    return {**default, **override}


def typed_values(values: dict[str, Any], config_class: type) -> dict[str, Any]:
    """Hyperparameter values as the config's field types (Keras Tuner may store a bool as 0/1)."""
    types = field_types(config_class)
    return {name: types[name](value) for name, value in values.items()}
