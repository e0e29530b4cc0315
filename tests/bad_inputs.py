"""Table-driven checks of bad input: each case runs a real command (its `main(argv)`) against
an existing good run directory and asserts the exit status, the first line of stderr, and
that the run directory is byte-identical afterwards."""

import dataclasses
import importlib
import re
from pathlib import Path
from typing import Callable


@dataclasses.dataclass(frozen=True)
class BadInput:
    """One row: `argv(run_dir, tmp_path)` for `python -m apps.<app>.<command>`."""

    name: str
    command: str
    argv: Callable[[Path, Path], list[str]]
    code: int
    first_line: str  # a regular expression searched in stderr's first line

    def __str__(self) -> str:
        return self.name


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def check_bad_input(app: str, case: BadInput, run_dir: Path, tmp_path: Path, capsys) -> str:
    """Run `case` and check it; returns stderr for further checks."""
    before = tree(run_dir)
    main = importlib.import_module(f"apps.{app}.{case.command}").main
    capsys.readouterr()
    try:
        code = main(case.argv(run_dir, tmp_path))
    except SystemExit as exit:  # argparse
        code = exit.code
    err = capsys.readouterr().err
    assert code == case.code, err
    first = (err.splitlines() or [""])[0]
    assert re.search(case.first_line, first), first
    after = tree(run_dir)
    changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    assert not changed, f"{run_dir} changed: {changed}"
    return err
