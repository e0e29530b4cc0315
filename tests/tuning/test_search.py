"""`python -m tuning.search`: real searches on tiny data, resume, failed trials, distributed."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import keras_tuner
import pytest

import tuning.run
from shared.config import load_config_file
from tests.apps.sentiment.conftest import TINY_FLAGS as SENTIMENT_FLAGS
from tests.apps.sentiment.conftest import write_reviews
from tests.cluster import free_ports
from tuning import search
from tuning.hypermodel import TaskHyperModel

REPO = Path(__file__).resolve().parents[2]
SENTIMENT_SPACE = "units=3,4;embedding_dim=4;num_layers=1;batch_size=4;recurrent_dropout=0.0"


def reviews(root: Path) -> Path:
    write_reviews(root, "train", copies=4)
    write_reviews(root, "test", copies=1)
    return root


def sentiment_argv(data: Path, output: Path, *extra: str) -> list[str]:
    return [
        "--app",
        "sentiment",
        "--output_dir",
        str(output),
        "--space",
        SENTIMENT_SPACE,
        *extra,
        "--data_dir",
        str(data),
        *SENTIMENT_FLAGS,
        "--epochs",
        "1",
    ]


def read_rows(output: Path) -> list[dict]:
    with open(output / "results.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow  # ~30 s; the distributed test below runs a real search in the quick suite
def test_a_random_search_writes_results_and_a_complete_best_run(tmp_path):
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    argv = sentiment_argv(data, output, "--max_trials", "2")
    assert search.main(argv) == 0
    rows = read_rows(output)
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED"]
    assert {"units", "cell", "learning_rate", "objective", "epochs", "seconds"} <= set(rows[0])
    assert all(r["units"] in ("3", "4") and float(r["objective"]) > 0 for r in rows)
    best = output / "best"
    assert (best / "export" / "1" / "saved_model.pb").exists()
    replay = load_config_file(
        search.load_app("sentiment")[0].config_class, str(best / "config.json")
    )
    summary = json.loads((output / "summary.json").read_text())
    assert replay["units"] == summary["best_hyperparameters"]["units"]
    assert isinstance(replay["bidirectional"], bool)
    assert summary["best_test"] == json.loads((best / "metrics.json").read_text())["accuracy"]
    assert (output / "plots" / "objective_by_trial.png").exists()
    assert (output / "plots" / "objective_vs_units.png").exists()


@pytest.fixture
def fake_training(monkeypatch):
    """Trials that take no time: the objective is the trial's `units`; `fail` and `stop`
    say which call fails or is interrupted. The final best/ run is not trained either."""
    calls = []
    plan = {"fail": set(), "stop": set()}

    def run(self, hp, run_dir, *, epochs=None, execution=0):
        calls.append(hp.values["units"])
        if len(calls) in plan["stop"]:
            raise KeyboardInterrupt
        if len(calls) in plan["fail"]:
            raise keras_tuner.errors.FailedTrialError("out of memory (simulated)")
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "trial.json").write_text(
            json.dumps({"objective": 1.0 / hp.values["units"], "epochs": 1, "seconds": 0.1})
        )
        return {self.task.selection_metric: 1.0 / hp.values["units"]}

    def train(task, config):  # the default config (units 3) scores 0.6, others 0.8, +- seed
        trained.append(config)
        return {"accuracy": (0.6 if config.units == 3 else 0.8) + 0.01 * (config.seed % 3)}

    trained = []
    monkeypatch.setattr(TaskHyperModel, "run", run)
    monkeypatch.setattr(tuning.run, "train", train)
    return calls, plan, trained


def test_confirmation_retrains_both_configurations_over_seeds(tmp_path, fake_training):
    _, _, trained = fake_training
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    argv = [
        *sentiment_argv(data, output, "--max_trials", "2", "--confirm_seeds", "3"),
        "--space",
        "units=5,6",
        "--units",
        "3",
    ]
    assert search.main(argv) == 0
    summary = json.loads((output / "summary.json").read_text())
    confirmation = summary["confirmation"]
    assert len(trained) == 1 + 2 + 3  # best/, two more seeds of the best, three of the default
    assert sorted(c.seed for c in trained[3:]) == [1337, 1338, 1339]
    assert {c.units for c in trained[3:]} == {3} and {c.units for c in trained[:3]} == {6}
    assert confirmation["best"]["mean"] > confirmation["default"]["mean"]
    assert confirmation["verdict"] == "the best trial beats the default configuration"
    assert confirmation["best"]["std"] > 0


@pytest.mark.parametrize("tuner", ["random", "bayesian", "hyperband"])
def test_every_tuner_runs_trials_and_picks_the_best(tmp_path, fake_training, tuner):
    calls, _, trained = fake_training
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    argv = [
        *sentiment_argv(data, output, "--tuner", tuner, "--max_trials", "3"),
        "--space",
        "units=1,2,3,4,5,6",
        "--epochs",
        "3",
    ]
    assert search.main(argv) == 0
    rows = read_rows(output)
    assert rows and all(r["status"] == "COMPLETED" for r in rows)
    best = min(rows, key=lambda r: float(r["objective"]))  # objective 1 / units, minimised
    assert trained[0].units == int(best["units"]) == max(calls)


def test_a_failing_trial_is_recorded_and_the_search_goes_on(tmp_path, fake_training):
    calls, plan, _ = fake_training
    plan["fail"] = {1}
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    space = ["--space", "units=1,2,3,4,5,6"]
    assert search.main([*sentiment_argv(data, output, "--max_trials", "3"), *space]) == 0
    rows = read_rows(output)
    assert [r["status"] for r in rows].count("COMPLETED") == 2
    failed = [r for r in rows if r["status"] == "FAILED"]
    assert len(failed) == 1 and "out of memory (simulated)" in failed[0]["reason"]
    assert failed[0]["objective"] == ""


def test_an_interrupted_search_resumes_without_running_a_finished_trial(tmp_path, fake_training):
    calls, plan, _ = fake_training
    plan["stop"] = {2}
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    argv = [*sentiment_argv(data, output, "--max_trials", "3"), "--space", "units=1,2,3,4,5,6"]
    assert search.main(argv) == 130  # interrupted in the second trial
    first = list(calls)
    plan["stop"] = set()
    assert search.main(argv) == 0
    rows = read_rows(output)
    assert len(rows) == 3 and all(r["status"] == "COMPLETED" for r in rows)
    assert len(calls) - len(first) == 2  # the interrupted trial again, and the third
    assert int(rows[0]["units"]) == first[0]
    assert search.main([*argv, "--overwrite"]) == 0  # afresh: three trials again
    assert len(calls) - len(first) == 5


def test_a_distributed_search_runs_every_trial_once(tmp_path):
    """One chief (the oracle) and two workers on localhost, bounded in time."""
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    argv = sentiment_argv(data, output, "--max_trials", "3", "--chief_timeout", "30")
    argv += ["--refit", "scratch"]  # the final fit: for best/ only, never for a trial
    base = {
        **os.environ,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(free_ports(1)[0]),
        "PYTHONPATH": str(REPO),
    }
    processes = {}
    try:
        for name in ("chief", "tuner0", "tuner1"):
            log = open(tmp_path / f"{name}.log", "w")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "tuning.search", *argv],
                env={**base, "KERASTUNER_TUNER_ID": name},
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        codes = {name: p.wait(timeout=300) for name, p in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = {name: (tmp_path / f"{name}.log").read_text() for name in processes}
    assert codes == {"chief": 0, "tuner0": 0, "tuner1": 0}, logs
    trials = sorted((output / search.PROJECT).glob("trial_*"))
    assert len(trials) == 3
    assert all(len(list(t.glob("execution_*/trial.json"))) == 1 for t in trials)
    rows = read_rows(output)
    assert sorted(r["trial_id"] for r in rows) == ["0", "1", "2"]
    assert all(r["status"] == "COMPLETED" for r in rows)
    assert (output / "best" / "export" / "1").is_dir()
    assert "no trial left" in logs["tuner0"] and "no trial left" in logs["tuner1"]
    assert json.loads((output / "best" / "metrics.json").read_text())["refit"]["epochs"] == 1
    assert not list((output / search.PROJECT).rglob("refit_history.csv"))


def test_a_worker_without_a_chief_stops(tmp_path):
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    env = {
        **os.environ,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "PYTHONPATH": str(REPO),
        "KERASTUNER_ORACLE_PORT": str(free_ports(1)[0]),
        "KERASTUNER_TUNER_ID": "tuner0",
    }
    argv = sentiment_argv(data, output, "--chief_timeout", "3")
    done = subprocess.run(
        [sys.executable, "-m", "tuning.search", *argv],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 3
    assert "has not answered for 3 s" in done.stderr


def app_case(app: str, root: Path) -> tuple[list[str], str]:
    """Tiny data, flags and a small space for a real search of `app`."""
    if app == "weather":
        from tests.apps.weather.conftest import messy
        from tests.apps.weather.conftest import signal_frame
        from tests.apps.weather.conftest import write_csv

        write_csv(messy(signal_frame()), root / "station.csv")
        flags = [
            "--target_columns",
            "temp",
            "--input_steps",
            "24",
            "--horizon",
            "6",
            "--members",
            "1",
            "--refit",
            "none",
        ]
        return ["--data_dir", str(root), *flags], "units=4,8;input_steps=12,24;batch_size=32"
    if app == "speech":
        from tests.apps.speech.conftest import TINY_FLAGS
        from tests.apps.speech.conftest import write_clips

        write_clips(root, "train", copies=8)
        write_clips(root, "test", copies=4)
        return [
            "--data_dir",
            str(root),
            *TINY_FLAGS,
        ], "units=4;cepstral_coefficients=0,12;conv_filters=4;batch_size=8"
    if app == "translation":
        from tests.apps.translation.conftest import TINY_FLAGS
        from tests.apps.translation.conftest import write_corpus

        data = write_corpus(root, train=120, test=10)
        return [
            "--data_dir",
            str(data),
            *TINY_FLAGS,
            "--no-cosine_decay",
        ], "units=8,12;decoder_units=16;embedding_dim=8;batch_size=8"
    if app == "captioning":
        from tests.apps.captioning.conftest import TINY_FLAGS
        from tests.apps.captioning.conftest import small_shapes

        data = small_shapes(root / "data")
        flags = [*TINY_FLAGS, "--cache_dir", str(root / "cache")]
        return ["--data_dir", str(data), *flags], "units=16,32;embedding_dim=16;batch_size=16"
    from tests.apps.video.conftest import TINY_FLAGS
    from tests.apps.video.conftest import small_motion

    data = small_motion(root / "data", train=4, test=2)
    flags = [*TINY_FLAGS, "--cache_dir", str(root / "cache")]
    return ["--data_dir", str(data), *flags], "units=8,16;frame_units=32;batch_size=8"


@pytest.mark.slow
@pytest.mark.parametrize("app", ["weather", "speech", "translation", "captioning", "video"])
def test_a_random_search_of_every_app_completes(tmp_path, app):
    app_argv, space = app_case(app, tmp_path / "data")
    output = tmp_path / "search"
    argv = [
        "--app",
        app,
        "--output_dir",
        str(output),
        "--max_trials",
        "2",
        "--space",
        space,
        *app_argv,
        "--epochs",
        "1",
    ]
    assert search.main(argv) == 0
    rows = read_rows(output)
    assert len(rows) == 2 and all(r["status"] == "COMPLETED" for r in rows), rows
    assert (output / "best" / "metrics.json").exists()
    assert (output / "best" / "export" / "1").is_dir()


def test_out_of_memory_fails_the_trial_with_its_reason(tmp_path, monkeypatch):
    import tensorflow as tf

    from shared import runner

    def out_of_memory(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr(runner, "fit", out_of_memory)  # a trial trains as train does
    data, output = reviews(tmp_path / "reviews"), tmp_path / "search"
    assert search.main(sentiment_argv(data, output, "--max_trials", "1")) == 1  # none completed
    rows = read_rows(output)
    assert rows[0]["status"] == "FAILED"
    assert "ResourceExhaustedError: OOM when allocating tensor" in rows[0]["reason"]


def test_hyperband_continues_a_run_that_used_its_budget_not_one_that_stopped(tmp_path):
    from shared.callbacks import load_state
    from shared.callbacks import save_state
    from shared.run_dir import RunDir
    from tuning.hypermodel import reopen

    history = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.4}]
    for reason, after in (("completed", None), ("early_stopping", "early_stopping")):
        run_dir = tmp_path / reason
        state_dir = RunDir(run_dir).resume_state
        state_dir.mkdir(parents=True)
        save_state(state_dir, history, "epoch-2.weights.h5", stop_reason=reason)
        reopen(run_dir)
        state = load_state(state_dir)
        assert state["stop_reason"] == after and state["history"] == history
        assert state["weights"] == "epoch-2.weights.h5"
