"""End to end: train on a CSV with a known signal, then the run directory, export and commands."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from apps.weather import evaluate
from apps.weather import predict
from apps.weather import train
from shared.run_dir import RunDir
from tests.apps.weather.conftest import messy
from tests.apps.weather.conftest import signal_frame
from tests.apps.weather.conftest import write_csv
from tests.bad_inputs import BadInput
from tests.bad_inputs import check_bad_input
from tests.clean_client import predict_in_a_fresh_process
from tests.clean_client import run_clean_client
from tests.run_dir_test import check_finished_run_directory
from tests.run_dir_test import copy_of

# About 260 training steps (8 epochs of 32 batches) on a daily sine with a trend.
SMALL_FLAGS = [
    "--target_columns",
    "temp",
    "--input_steps",
    "24",
    "--horizon",
    "6",
    "--units",
    "16",
    "--num_layers",
    "1",
    "--batch_size",
    "32",
    "--epochs",
    "8",
    "--patience",
    "8",
    "--learning_rate",
    "0.01",
    # Two members and one fine-tuning epoch keep both paths and halve the time; the
    # ensemble itself is tested in test_model.py.
    "--members",
    "2",
    "--refit",
    "fine_tune",
    "--finetune_epochs",
    "1",
]

# Imports nothing from this project: the export must stand on its own, as in TF Serving.
CLEAN_CLIENT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
    inputs = {name: [spec.dtype.name, spec.shape.as_list()]
              for name, spec in serve.structured_input_signature[1].items()}
    steps, features = inputs["window"][1][1:]
    window = np.full((2, steps, features), 10.0, np.float32)
    timestamps = 1_600_000_000 + 3600 * np.arange(steps)[None].repeat(2, 0)
    forecast = serve(window=tf.constant(window), timestamps=tf.constant(timestamps))["forecast"]
    window[0, 3, 0] = np.nan
    one_bad = serve(window=tf.constant(window), timestamps=tf.constant(timestamps))
    try:
        serve(window=tf.constant(window[0]), timestamps=tf.constant(timestamps))
        rank_error = ""
    except tf.errors.InvalidArgumentError as error:
        rank_error = error.message
    project = sorted(m for m in sys.modules if m.split(".")[0] in ("apps", "shared", "tests"))
    print(json.dumps({"inputs": inputs, "shape": forecast.shape.as_list(),
                      "finite": bool(np.isfinite(forecast.numpy()).all()),
                      "errors": [e.decode() for e in one_bad["error"].numpy()],
                      "bad_row_nan": bool(np.isnan(one_bad["forecast"][0].numpy()).all()),
                      "good_row_same": bool(np.allclose(one_bad["forecast"][1], forecast[1])),
                      "rank_error": rank_error, "project_modules": project}))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("weather")
    data_dir = root / "data"
    write_csv(messy(signal_frame()), data_dir / "station.csv")
    run_dir = root / "run"
    assert (
        train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir), *SMALL_FLAGS]) == 0
    )
    return run_dir, data_dir


def test_model_beats_persistence_on_a_known_signal(trained_run):
    run_dir, _ = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["skill"]["mae_vs_persistence"] < 0.7, metrics["skill"]
    assert metrics["model"]["mae"] < metrics["persistence"]["mae"]


def test_run_directory_follows_the_contract(trained_run):
    run_dir, _ = trained_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["input_columns"] == ["temp", "humidity", "wind=N", "wind=S", "pressure"]
    assert config["time_column"] == "timestamp" and config["target_columns"] == ["temp"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for name in ("model", "persistence", "seasonal_naive"):
        assert len(metrics[name]["mae_per_step"]) == 6
        assert set(metrics[name]["per_target"]) == {"temp"}
        assert metrics[name]["rmse"] >= metrics[name]["mae"] > 0
    assert metrics["data"]["duplicate_timestamps"] == 1 and metrics["data"]["missing_steps"] == 1
    assert metrics["data"]["sentinel_values"] == {"pressure": 1}
    assert metrics["train_seconds"] > 0 and metrics["train_examples_per_second"] > 0
    refit = metrics["refit"]
    assert refit["mode"] == "fine_tune" and refit["epochs"] == 1 and refit["seconds"] > 0
    assert refit["examples"] > metrics["examples"]["train"] + metrics["examples"]["val"]
    assert refit["selection"]["test"]["model.mae"] > 0
    check_finished_run_directory(run_dir, {"horizon_mae.png", "sample_forecasts.png"})


def test_export_round_trip_in_a_clean_process(trained_run, tmp_path):
    run_dir, _ = trained_run
    answer = run_clean_client(
        CLEAN_CLIENT, run_dir / "export" / "1", cwd=tmp_path, warmup=run_dir / "export" / "1"
    )
    assert answer["inputs"] == {
        "window": ["float32", [None, 24, 5]],
        "timestamps": ["int64", [None, 24]],
    }
    assert answer["shape"] == [2, 6, 1] and answer["finite"]
    # A window with a NaN: that element alone gets a NaN forecast and its error.
    assert answer["errors"][0].startswith("window must hold finite numbers")
    assert answer["errors"][1] == "" and answer["bad_row_nan"] and answer["good_row_same"]
    assert "Shape of tensor window [24,5] is not compatible" in answer["rank_error"]
    assert answer["project_modules"] == []


def test_best_keras_forecasts_raw_windows_in_a_fresh_process(trained_run, tmp_path):
    """The checkpoint alone, in a new Python: raw-unit windows in, the export's forecast out."""
    run_dir, _ = trained_run
    export = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    rng = np.random.default_rng(3)
    window = (rng.normal(size=(5, 24, 5)) * 3 + 10).astype("float32")
    timestamps = 1_600_000_000 + 3600 * np.arange(24)[None].repeat(5, 0)
    inputs = {"window": window, "timestamps": timestamps}
    fresh = predict_in_a_fresh_process("weather", RunDir(run_dir).best_model, inputs, tmp_path)
    served = export(window=tf.constant(window), timestamps=tf.constant(timestamps))["forecast"]
    assert fresh.shape == (5, 6, 1)
    np.testing.assert_allclose(fresh, served.numpy(), rtol=1e-5, atol=1e-4)


def test_evaluate_reproduces_the_metrics_through_the_export(trained_run, tmp_path):
    run_dir = copy_of(trained_run[0], tmp_path)  # the shared run stays as trained
    before = json.loads((run_dir / "metrics.json").read_text())
    assert evaluate.main(["--run_dir", str(run_dir)]) == 0
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["model"]["mae"] == pytest.approx(before["model"]["mae"], rel=1e-4)
    assert after["seasonal_naive"] == before["seasonal_naive"]
    # The selected model's test figure cannot be recomputed (only the final model is kept):
    # not kept stale; what describes the final fit is.
    assert "test" not in after["refit"]["selection"] and after["refit"]["epochs"] == 1
    assert after["train_seconds"] == before["train_seconds"]


def test_predict_forecasts_after_the_end_of_a_csv(trained_run, tmp_path, capsys):
    run_dir, _ = trained_run
    recent = signal_frame(hours=30, seed=5).drop(columns=["wind"])
    recent["wind"] = "S"  # only one category present: wind=N must be filled with 0
    path = write_csv(recent, tmp_path / "recent.csv")
    assert predict.main(["--run_dir", str(run_dir), str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"{path}: forecast after 2021-01-02 05:00:00 (temp)")
    assert len(lines) == 1 + 6 and lines[1].strip().startswith("2021-01-02 06:00:00  temp=")
    values = [float(line.split("temp=")[1]) for line in lines[1:]]
    assert np.isfinite(values).all()


def test_predict_refuses_short_or_non_finite_input(trained_run, tmp_path, capsys):
    run_dir, _ = trained_run
    short = write_csv(signal_frame(hours=10), tmp_path / "short.csv")
    assert predict.main(["--run_dir", str(run_dir), str(short)]) == 1
    infinite = signal_frame(hours=30)
    infinite["humidity"] = infinite["humidity"].astype(object)
    infinite.loc[29, "humidity"] = "inf"
    path = write_csv(infinite, tmp_path / "inf.csv")
    assert predict.main(["--run_dir", str(run_dir), str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "needs the last 24 rows" in err[0]
    assert "'humidity'" in err[1] and "finite" in err[1]


def test_bad_time_column_writes_nothing(tmp_path, capsys):
    frame = signal_frame(hours=100)
    frame.loc[[40, 41], "timestamp"] = frame.loc[[41, 40], "timestamp"].to_numpy()
    data_dir = tmp_path / "data"
    write_csv(frame, data_dir / "station.csv")
    run_dir = tmp_path / "run"
    assert (
        train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir), *SMALL_FLAGS]) == 1
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'timestamp' is not in time order" in err
    assert not run_dir.exists()


def test_bad_split_fractions_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--split_fractions", "0.5,0.5"])
    assert exit_info.value.code == 2
    assert "--split_fractions" in capsys.readouterr().err


# === Bad input (see tests/bad_inputs.py) ===


def text_in_numbers(tmp_path: Path) -> Path:
    """A sensor wrote `abc` in a numeric input cell (before: the column became one-hot text
    columns, and predict said it was missing)."""
    recent = signal_frame(hours=30, seed=5).astype({"humidity": object})
    recent.loc[20, "humidity"] = "abc"
    return write_csv(recent, tmp_path / "recent.csv")


def no_target_in_the_test_split(tmp_path: Path) -> Path:
    """The target sensor died before the test period: no test window can be scored."""
    frame = signal_frame(hours=400)
    frame.loc[345:, "temp"] = np.nan  # rows 340-399 test
    return write_csv(frame, tmp_path / "data" / "station.csv").parent


BAD_INPUTS = [
    BadInput(
        "no_scorable_test_window",
        "train",
        lambda run, tmp: [
            "--data_dir",
            str(no_target_in_the_test_split(tmp)),
            "--output_dir",
            str(run),
            *SMALL_FLAGS,
        ],
        1,
        r"^error: the test split has no window whose 6 target rows were all observed",
    ),
    BadInput(
        "text_in_a_numeric_cell",
        "predict",
        lambda run, tmp: ["--run_dir", str(run), str(text_in_numbers(tmp))],
        0,
        r"^warning: .*recent\.csv, line 22, column 'humidity': 'abc' is not a number",
    ),
    BadInput(
        "missing_csv",
        "predict",
        lambda run, tmp: ["--run_dir", str(run), str(tmp / "recent.csv")],
        1,
        r"^error: .*recent\.csv: no such file",
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=str)
def test_bad_input(case, trained_run, tmp_path, capsys):
    check_bad_input("weather", case, trained_run[0], tmp_path, capsys)
