"""End to end: `main([...])` on number words -> digits, then the run directory, export, commands."""

import json
import textwrap
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from apps.translation import evaluate
from apps.translation import predict
from apps.translation import train
from apps.translation.config import TranslationConfig
from shared.run_dir import RunDir
from tests.apps.translation.conftest import TINY_FLAGS
from tests.apps.translation.conftest import write_corpus
from tests.bad_inputs import BadInput
from tests.bad_inputs import check_bad_input
from tests.clean_client import generate_in_a_fresh_process
from tests.clean_client import run_clean_client
from tests.run_dir_test import check_finished_run_directory
from tests.run_dir_test import copy_of

# Enough to learn the task exactly: a few hundred steps of a small model.
LEARNING_FLAGS = [
    *TINY_FLAGS,
    "--embedding_dim",
    "16",
    "--units",
    "32",
    "--decoder_units",
    "48",
    "--attention_units",
    "16",
    "--batch_size",
    "16",
    "--epochs",
    "12",
    "--patience",
    "12",
    "--learning_rate",
    "0.01",
    "--ema_momentum",  # a few hundred steps: an average over ~500 would lag behind
    "0",
    "--context_layer",
    "--max_source_tokens",  # the bound that one huge sentence meets (test_bad_input)
    "64",
]

# Imports nothing from this project: the export must stand on its own, as in TF Serving.
CLEAN_CLIENT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    loaded = tf.saved_model.load(sys.argv[1])
    texts = tf.constant(sys.argv[2:])
    serve = loaded.signatures["serving_default"]
    detailed = loaded.signatures["translate_with_attention"](text=texts)
    project = sorted(m for m in sys.modules if m.split(".")[0] in ("apps", "shared", "tests"))
    print(json.dumps({
        "inputs": {n: s.dtype.name for n, s in serve.structured_input_signature[1].items()},
        "outputs": sorted(serve.structured_outputs),
        "project_modules": project,
        "translation": [t.decode() for t in serve(text=texts)["translation"].numpy()],
        "detailed": [t.decode() for t in detailed["translation"].numpy()],
        "attention_shape": detailed["attention"].shape.as_list(),
        "tokens_shape": detailed["tokens"].shape.as_list(),
    }))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One run that learns the task, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("translation")
    data_dir = write_corpus(root / "data")
    run_dir = root / "run"
    code = train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir), *LEARNING_FLAGS])
    assert code == 0
    return run_dir, data_dir


def test_learns_to_translate_number_words_exactly(trained_run):
    run_dir, _ = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    exact = [s["beam"] == s["reference"] for s in metrics["sample_translations"]]
    assert metrics["beam"]["bleu"] > 90 and all(exact), metrics["sample_translations"]
    assert metrics["greedy"]["bleu"] > 90
    assert metrics["baseline_copy"]["bleu"] < 5


def test_run_directory_follows_the_contract(trained_run):
    run_dir, _ = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("beam", "greedy", "baseline_copy", "train_seconds", "data", "examples"):
        assert key in metrics, key
    assert metrics["train_examples_per_second"] > 0
    assert metrics["train_target_tokens_per_second"] > 0
    assert set(metrics["beam"]) >= {"bleu", "chrf", "sentences_per_second", "bleu_signature"}
    assert metrics["examples"]["test"] == 40 and metrics["data"]["lengths"]["kept"] > 300
    model = keras.saving.load_model(RunDir(run_dir).best_model, compile=False)
    vocabulary = model.preprocessor.source.vocabulary
    assert vocabulary[:4] == ["", "[UNK]", "[START]", "[END]"]
    assert metrics["vocabularies"]["source"] == len(vocabulary)
    check_finished_run_directory(run_dir, {"attention.png"})


def test_export_translates_raw_strings_in_a_clean_process(trained_run, tmp_path):
    run_dir, _ = trained_run
    texts = ["Three one four.", "", "Nine nine   eight."]
    answer = run_clean_client(
        CLEAN_CLIENT,
        run_dir / "export" / "1",
        *texts,
        cwd=tmp_path,
        warmup=run_dir / "export" / "1",
    )
    assert answer["inputs"] == {"text": "string"} and answer["outputs"] == ["translation"]
    assert answer["project_modules"] == []
    assert answer["translation"][0] == "3 1 4 ." and answer["translation"][2] == "9 9 8 ."
    assert answer["detailed"] == answer["translation"]
    batch, steps, source = answer["attention_shape"]
    assert batch == 3 and steps == answer["tokens_shape"][1] and source >= 4


def test_best_keras_translates_raw_text_in_a_fresh_process(trained_run, tmp_path):
    """The checkpoint alone, in a new Python: `generate` gives the export's translations."""
    run_dir, _ = trained_run
    texts = ["Three one four.", "", "Nine nine   eight."]
    fresh = generate_in_a_fresh_process("translation", RunDir(run_dir).best_model, texts, tmp_path)
    export = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    served = export(text=tf.constant(texts))["translation"].numpy()
    assert fresh == [t.decode("utf-8") for t in served]
    assert fresh[0] == "3 1 4 ."


def test_evaluate_rewrites_metrics_through_the_export(trained_run, tmp_path):
    run_dir = copy_of(trained_run[0], tmp_path)  # the shared run stays as trained
    before = json.loads((run_dir / "metrics.json").read_text())
    assert evaluate.main(["--run_dir", str(run_dir)]) == 0
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["beam"]["bleu"] == pytest.approx(before["beam"]["bleu"])
    assert after["evaluated_export"].endswith("export/1")
    # What describes training stays; greedy decoding comes from best.keras, loaded too.
    assert after["data"] == before["data"] and after["train_seconds"] == before["train_seconds"]
    assert after["greedy"]["bleu"] == pytest.approx(before["greedy"]["bleu"])


def test_predict_prints_a_translation_per_sentence(trained_run, tmp_path, capsys):
    run_dir, _ = trained_run
    lines = tmp_path / "sentences.txt"
    lines.write_text("Two two.\n\nSeven.\n", encoding="utf-8")
    assert predict.main(["--run_dir", str(run_dir), str(lines), "Five six."]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["Two two.\t2 2 .", "Seven.\t7 .", "Five six.\t5 6 ."]


def test_commands_on_a_missing_run_fail_with_one_line(tmp_path, capsys):
    assert evaluate.main(["--run_dir", str(tmp_path / "nothing")]) == 1
    assert predict.main(["--run_dir", str(tmp_path), "text"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)


def test_bad_data_writes_nothing(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.tsv").write_text("en\tde\nHello\n", encoding="utf-8")
    (tmp_path / "data" / "test.tsv").write_text("en\tde\nHello\tHallo\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    assert train.main(["--data_dir", str(tmp_path / "data"), "--output_dir", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.tsv, line 2" in err
    assert not run_dir.exists()


def test_one_epoch_run_warms_up_for_half_of_it():
    """`--epochs 1` with the defaults, the smoke run every user tries first, is accepted: the
    warm-up takes at most half of the epochs."""
    assert TranslationConfig(epochs=1).warmup == 0.5
    assert TranslationConfig(epochs=12).warmup == 1.0
    assert TranslationConfig(epochs=12, warmup_epochs=8).warmup == 6.0


# === Bad input (see tests/bad_inputs.py) ===

LONG_SENTENCE = " ".join(["seven", "two"] * 1000)  # 2,000 words


def broken_corpus(tmp_path: Path) -> Path:
    data = write_corpus(tmp_path / "broken")
    (data / "train.tsv").write_text("en\tde\nHello\n", encoding="utf-8")
    return data


BAD_INPUTS = [
    BadInput(
        "flag_typo",
        "train",
        lambda run, tmp: ["--epoch", "1", "--output_dir", str(run)],
        2,
        r"error: unrecognized arguments: --epoch 1$",
    ),
    BadInput(
        "tsv_row_without_its_columns",
        "train",
        lambda run, tmp: ["--data_dir", str(broken_corpus(tmp)), "--output_dir", str(run)],
        1,
        r"^error: .*train\.tsv, line 2: 1 columns, the header has 2$",
    ),
    BadInput(
        "mistyped_predict_file",
        "predict",
        lambda run, tmp: ["--run_dir", str(run), str(tmp / "sentences.txt")],
        1,
        r"^error: .*sentences\.txt: no such file",
    ),
    BadInput(
        "two_thousand_word_sentence",
        "predict",
        lambda run, tmp: ["--run_dir", str(run), LONG_SENTENCE],
        0,
        r"^warning: sentence 1 has 64 or more source tokens: translated up to there",
    ),
    BadInput(
        "evaluate_on_a_missing_folder",
        "evaluate",
        lambda run, tmp: ["--run_dir", str(run), "--data_dir", str(tmp / "none")],
        1,
        r"^error: ",
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=str)
def test_bad_input(case, trained_run, tmp_path, capsys):
    check_bad_input("translation", case, trained_run[0], tmp_path, capsys)


def test_one_huge_sentence_costs_a_bounded_translation(trained_run):
    """The source is cut at --max_source_tokens, the output at 1.5x that plus 10 (before: a
    2,000-word sentence decoded for minutes past 7 GB)."""
    import apps.translation.model  # noqa: F401  (registers the layers)

    model = keras.saving.load_model(trained_run[0] / "checkpoints" / "best.keras")
    outputs = model.translate(tf.constant([LONG_SENTENCE, "Seven."]))
    assert outputs["source_tokens"].shape[1] == 64 + 1  # [END]
    assert outputs["tokens"].shape[1] <= 1.5 * 64 + 10
    assert outputs["translation"].numpy()[1].decode() == "7 ."
