"""Write one TF Serving `models.config` that serves several runs, and the docker command.

python -m shared.serving_config runs/speech runs/sentiment --output models.config

Each run (a run directory or its `export/` folder) becomes one model named after the run
directory (`--name` to choose), served from `/models/<name>` inside the container. Versions:
`--keep 1` (the default) serves the newest; `--keep 2` also keeps the one before it loaded, so
a client can pin `"version_label": "previous"` while `"stable"` moves to the new one (TF
Serving's labels, in the gRPC and REST APIs: `/v1/models/<name>/labels/stable:predict`). The
file is a `ModelServerConfig` text proto, written through the protos of
`tensorflow-serving-api`, so TF Serving parses what this writes.
"""

import sys
from pathlib import Path
from typing import Optional
from typing import Sequence

from shared.cli import ArgumentParser
from shared.cli import command
from shared.errors import UserError

CONTAINER_ROOT = "/models"


def export_root(path: Path) -> Path:
    """The folder of integer-named versions: `path` itself or `path/export`."""
    for candidate in (path, path / "export"):
        if versions(candidate):
            return candidate
    raise UserError(f"{path}: no export version (a folder named 1, 2, ... holding saved_model.pb)")


def versions(root: Path) -> list[int]:
    """The complete versions in an export folder, oldest first."""
    if not root.is_dir():
        return []
    return sorted(
        int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / "saved_model.pb").exists()
    )


def model_name(path: Path) -> str:
    """A run's model name: its run directory's name (`runs/speech/export` -> `speech`)."""
    root = export_root(path)
    return (root.parent if root.name == "export" else root).resolve().name


def build_config(runs: Sequence[Path], names: Sequence[str], keep: int):
    """The `ModelServerConfig` proto serving `runs` under `names`."""
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    for run, name in zip(runs, names):
        served = versions(export_root(run))[-keep:]
        model = config.model_config_list.config.add()
        model.name = name
        model.base_path = f"{CONTAINER_ROOT}/{name}"
        model.model_platform = "tensorflow"
        model.model_version_policy.specific.versions.extend(served)
        model.version_labels["stable"] = served[-1]
        if len(served) > 1:
            model.version_labels["previous"] = served[-2]
    return config


def docker_command(runs: Sequence[Path], names: Sequence[str], config_path: Path) -> str:
    """The `docker run` line that mounts each export folder and the config."""
    mounts = [
        f'  -v "{export_root(run).resolve()}:{CONTAINER_ROOT}/{name}:ro"'
        for run, name in zip(runs, names)
    ]
    mounts.append(f'  -v "{config_path.resolve()}:{CONTAINER_ROOT}/models.config:ro"')
    return " \\\n".join(
        [
            "docker run -p 8500:8500 -p 8501:8501",
            *mounts,
            f"  tensorflow/serving --model_config_file={CONTAINER_ROOT}/models.config \\",
            "  --model_config_file_poll_wait_seconds=60",
        ]
    )


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = ArgumentParser(
        prog="python -m shared.serving_config", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("runs", nargs="+", help="Run directories (or their export/ folders)")
    parser.add_argument("--output", default="models.config", help="Where to write the config")
    parser.add_argument(
        "--name",
        action="append",
        default=[],
        help="Model name of each run, in order (default: the run directory's name)",
    )
    parser.add_argument("--keep", type=int, default=1, help="Newest versions to serve per model")
    args = parser.parse_args(argv)
    if args.keep < 1:
        parser.error("--keep must be at least 1")
    runs = [Path(run) for run in args.runs]
    if args.name and len(args.name) != len(runs):
        parser.error(f"give one --name per run ({len(runs)}), or none")
    names = args.name or [model_name(run) for run in runs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UserError(f"two runs would be served as {', '.join(duplicates)}: pass --name")
    config = build_config(runs, names, args.keep)
    from google.protobuf import text_format

    output = Path(args.output)
    output.write_text(text_format.MessageToString(config), encoding="utf-8")
    print(f"wrote {output}: {', '.join(names)}\n")
    print(docker_command(runs, names, output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
