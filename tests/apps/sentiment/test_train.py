"""End to end: `main([...])` on tiny data, then the run directory, the export and the commands."""

import json
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.sentiment import evaluate
from apps.sentiment import predict
from apps.sentiment import train
from shared.run_dir import RunDir
from tests.apps.sentiment.conftest import TINY_FLAGS
from tests.apps.sentiment.conftest import write_reviews
from tests.bad_inputs import BadInput
from tests.bad_inputs import check_bad_input
from tests.clean_client import predict_in_a_fresh_process
from tests.clean_client import run_clean_client
from tests.run_dir_test import check_finished_run_directory
from tests.run_dir_test import copy_of

# Imports nothing from this project: the export must stand on its own, as in TF Serving.
CLEAN_CLIENT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
    inputs = {name: spec.dtype.name for name, spec in serve.structured_input_signature[1].items()}
    texts = json.loads(sys.argv[2])
    outputs = serve(text=tf.constant(texts))
    project = sorted(m for m in sys.modules if m.split(".")[0] in ("apps", "shared", "tests"))
    print(json.dumps({"inputs": inputs, "project_modules": project,
                      "labels": [s.decode() for s in outputs["label"].numpy()],
                      "probabilities": outputs["probabilities"].numpy().tolist()}))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One complete tiny run shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("sentiment")
    write_reviews(root / "data", "train", copies=2)
    write_reviews(root / "data", "test", copies=1, unseen=True)
    run_dir = root / "run"
    # Enough steps for the tiny model to learn which words carry the sentiment.
    learn = ["--epochs", "15", "--patience", "15", "--learning_rate", "0.02"]
    learn += ["--embedding_dim", "8", "--units", "8", "--embedding_dropout", "0"]
    argv = ["--data_dir", str(root / "data"), "--output_dir", str(run_dir), *TINY_FLAGS, *learn]
    code = train.main(argv)
    assert code == 0
    return run_dir, root / "data"


def test_run_directory_follows_the_contract(trained_run):
    run_dir, _ = trained_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["class_names"] == ["neg", "pos"] and config["units"] == 8
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "accuracy",
        "loss",
        "per_class",
        "baseline_majority",
        "confusion_matrix",
        "train_seconds",
        "train_examples_per_second",
        "examples",
    ):
        assert key in metrics, key
    assert set(metrics["per_class"]) == {"neg", "pos"}
    assert set(metrics["per_class"]["pos"]) == {"precision", "recall", "f1", "support"}
    assert metrics["examples"]["test"] == 10 and metrics["train_examples_per_second"] > 0
    assert metrics["accuracy"] >= 0.8  # unseen reviews: it learned the sentiment words
    assert metrics["baseline_majority"]["accuracy"] == 0.5
    refit, examples = metrics["refit"], metrics["examples"]  # the default final fit
    assert refit["mode"] == "fine_tune" and refit["epochs"] == 2
    assert refit["examples"] == examples["train"] + examples["val"]
    check_finished_run_directory(run_dir, {"confusion_matrix.png"})


TEXTS = ["Great wonderful film, loved it!", "", "boring awful " * 8000, "Awful. <br />Dull."]


def test_export_serves_raw_strings_in_a_clean_process(trained_run, tmp_path):
    run_dir, _ = trained_run
    export = run_dir / "export" / "1"
    answer = run_clean_client(CLEAN_CLIENT, export, json.dumps(TEXTS), cwd=tmp_path, warmup=export)
    assert answer["inputs"] == {"text": "string"}
    assert answer["project_modules"] == []
    # The served probabilities are the trained model's (the empty and the 100,000-character
    # review included), and the labels their argmax.
    model = keras.saving.load_model(RunDir(run_dir).best_model)
    expected = model.predict(np.array(TEXTS))
    np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-5)
    assert answer["labels"] == [["neg", "pos"][i] for i in expected.argmax(-1)]


def test_best_keras_predicts_from_raw_strings_in_a_fresh_process(trained_run, tmp_path):
    """The checkpoint alone, in a new Python: the same probabilities as the export's."""
    run_dir, _ = trained_run
    texts = np.array(TEXTS)
    fresh = predict_in_a_fresh_process("sentiment", RunDir(run_dir).best_model, texts, tmp_path)
    served = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    expected = served(text=tf.constant(texts))["probabilities"].numpy()
    np.testing.assert_allclose(fresh, expected, atol=1e-5)


def test_evaluate_rewrites_metrics_through_the_export(trained_run, tmp_path):
    run_dir = copy_of(trained_run[0], tmp_path)  # the shared run stays as trained
    before = json.loads((run_dir / "metrics.json").read_text())
    assert evaluate.main(["--run_dir", str(run_dir)]) == 0
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["accuracy"] == pytest.approx(before["accuracy"])
    assert after["loss"] == pytest.approx(before["loss"], abs=1e-4)
    assert after["evaluated_export"].endswith("export/1")


def test_predict_prints_a_label_per_input(trained_run, tmp_path, capsys):
    run_dir, _ = trained_run
    review = tmp_path / "review.txt"
    review.write_text("Wonderful, great film!", encoding="utf-8")
    assert predict.main(["--run_dir", str(run_dir), str(review), "Awful boring mess."]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[0] in {"neg", "pos"} and lines[0].endswith(str(review))
    assert "neg=" in lines[1] and "pos=" in lines[1]


def test_commands_on_a_missing_run_fail_with_one_line(tmp_path, capsys):
    assert evaluate.main(["--run_dir", str(tmp_path / "nothing")]) == 1
    assert predict.main(["--run_dir", str(tmp_path), "text"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)


@pytest.mark.parametrize("damage", ["missing", "latin1"])
def test_bad_data_writes_nothing(review_folder, tmp_path, capsys, damage):
    if damage == "latin1":
        (review_folder / "train" / "neg" / "x.txt").write_bytes(b"\xff\xfe bad")
        data_dir = review_folder
    else:
        data_dir = tmp_path / "missing"
    run_dir = tmp_path / "run"
    assert train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(data_dir) in err
    assert not run_dir.exists()


def test_bad_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--cell", "transformer"])
    assert exit_info.value.code == 2
    assert "--cell" in capsys.readouterr().err


# === Bad input (see tests/bad_inputs.py) ===

BAD_INPUTS = [
    BadInput(
        "mistyped_review_file",
        "predict",
        lambda run, tmp: ["--run_dir", str(run), str(tmp / "review_missing.txt")],
        1,
        r"^error: .*review_missing\.txt: no such file",
    ),
    BadInput(
        "abbreviated_flag",
        "evaluate",
        lambda run, tmp: ["--run", str(run)],
        2,
        r"error: the following arguments are required: --run_dir$",
    ),
    BadInput(
        "missing_data_folder",
        "train",
        lambda run, tmp: ["--data_dir", str(tmp / "none"), "--output_dir", str(run)],
        1,
        r"^error: --data_dir .*none: no such folder",
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=str)
def test_bad_input(case, trained_run, tmp_path, capsys):
    check_bad_input("sentiment", case, trained_run[0], tmp_path, capsys)


def test_a_request_of_the_wrong_shape_names_the_input(trained_run):
    """Before: `Graph execution error:` from a string split deep inside, not naming `text`."""
    serve = tf.saved_model.load(str(trained_run[0] / "export" / "1")).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        serve(text=tf.constant([["A fine film.", "Dull."]]))
    assert "Shape of tensor text [1,2] is not compatible with expected shape [?]" in str(
        error.value
    )
