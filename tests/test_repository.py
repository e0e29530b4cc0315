"""The repository stands alone: nothing points outside it, links resolve, CI = the README."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if not name.startswith("data/")]


def test_no_file_points_outside_the_repository():
    outside = "../" + "shared"  # spelled in two parts so that this file does not match itself
    offenders = [
        str(path.relative_to(ROOT))
        for path in tracked_files()
        if path.suffix in {".py", ".md", ".toml", ".cfg", ".txt", ""}
        and path.is_file()
        and outside in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert offenders == []


def test_relative_links_in_the_docs_resolve():
    broken = []
    for doc in [p for p in tracked_files() if p.suffix == ".md"]:
        for target, _ in LINK.findall(doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert command in readme
    assert "pytest" in command


def test_the_quick_start_sample_is_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "apps.sentiment.train --data_dir data/sentiment" in readme
    counts = {
        f"{split}/{label}": len(list((ROOT / "data" / "sentiment" / split / label).glob("*.txt")))
        for split in ("train", "test")
        for label in ("neg", "pos")
    }
    assert counts == {"train/neg": 1500, "train/pos": 1500, "test/neg": 500, "test/pos": 500}
