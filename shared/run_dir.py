"""The run-directory layout of CONTRACT.md, in one place."""

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class RunDir:
    """Paths inside a run directory (`--output_dir`)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def best_model(self) -> Path:
        return self.root / "checkpoints" / "best.keras"

    @property
    def resume_state(self) -> Path:
        return self.root / "checkpoints" / "resume"

    @property
    def refit_state(self) -> Path:
        """The final fit's resumable state, inside the run's (removed with it at the end)."""
        return self.resume_state / "refit"

    @property
    def refit_model(self) -> Path:
        """The final fit's model, once it has trained all its epochs."""
        return self.refit_state / "final.keras"

    @property
    def start_model(self) -> Path:
        """The model as first built (its fitted preprocessor inside), for resuming."""
        return self.resume_state / "start.keras"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def export(self) -> Path:
        return self.root / "export"

    @property
    def lite(self) -> Path:
        """LiteRT models of the newest export (speech's `export_lite`); no version number, so
        TF Serving passes it by."""
        return self.export / "lite"

    def latest_export(self) -> Path:
        """The highest-numbered complete export version."""
        versions = sorted((int(p.name), p) for p in self.export.glob("*") if p.name.isdigit())
        if not versions:
            raise FileNotFoundError(f"{self.export} holds no export version")
        return versions[-1][1]
