"""End to end: `main([...])` on generated shapes, then the run directory, export, commands."""

import json
import textwrap
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from apps.captioning import evaluate
from apps.captioning import predict
from apps.captioning import train
from apps.captioning.data import read_folder
from shared.run_dir import RunDir
from tests.apps.captioning.conftest import TINY_FLAGS
from tests.apps.captioning.shapes import write_shapes
from tests.bad_inputs import BadInput
from tests.bad_inputs import check_bad_input
from tests.clean_client import generate_in_a_fresh_process
from tests.clean_client import run_clean_client
from tests.run_dir_test import check_finished_run_directory
from tests.run_dir_test import copy_of

# Enough for a small model to caption unseen single-shape images exactly.
LEARNING_FLAGS = [
    *TINY_FLAGS,
    "--units",
    "64",
    "--embedding_dim",
    "32",
    "--attention_units",
    "32",
    "--batch_size",
    "32",
    "--epochs",
    "20",
    "--patience",
    "20",
    "--learning_rate",
    "0.002",
    "--dropout",
    "0",
]

CLEAN_CLIENT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    loaded = tf.saved_model.load(sys.argv[1])
    images = tf.constant([open(p, "rb").read() if p != "-" else b"junk" for p in sys.argv[2:]])
    serve = loaded.signatures["serving_default"]
    detailed = loaded.signatures["caption_with_attention"](image_bytes=images)
    project = sorted(m for m in sys.modules if m.split(".")[0] in ("apps", "shared", "tests"))
    print(json.dumps({
        "inputs": {n: s.dtype.name for n, s in serve.structured_input_signature[1].items()},
        "outputs": sorted(serve.structured_outputs),
        "project_modules": project,
        "caption": [t.decode() for t in serve(image_bytes=images)["caption"].numpy()],
        "detailed": [t.decode() for t in detailed["caption"].numpy()],
        "decoded": detailed["decoded"].numpy().tolist(),
        "error": [t.decode() for t in serve(image_bytes=images)["error"].numpy()],
        "attention_shape": detailed["attention"].shape.as_list(),
        "words_shape": detailed["words"].shape.as_list(),
    }))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One run that learns single shapes, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("captioning")
    data_dir = write_shapes(root / "data", {"train": 400, "test": 30}, size=32, seed=5, shapes=1)
    run_dir = root / "run"
    flags = [*LEARNING_FLAGS, "--cache_dir", str(root / "cache")]
    assert train.main(["--data_dir", str(data_dir), "--output_dir", str(run_dir), *flags]) == 0
    return run_dir, data_dir


def test_learns_to_caption_unseen_images_exactly(trained_run):
    run_dir, data_dir = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    test, _ = read_folder(data_dir / "test")
    serve = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    images = tf.constant([r.path.read_bytes() for r in test.records])
    captions = [c.decode() for c in serve(image_bytes=images)["caption"].numpy()]
    exact = [c == r.captions[0] for c, r in zip(captions, test.records)]
    assert sum(exact) >= 0.9 * len(exact), list(zip(captions, test.records))
    assert metrics["beam"]["cider"] > metrics["baseline_most_frequent_caption"]["cider"] + 1
    assert metrics["greedy"]["bleu_1"] > 80


def test_run_directory_follows_the_contract(trained_run):
    run_dir, _ = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("beam", "greedy", "baseline_most_frequent_caption", "data", "samples"):
        assert key in metrics, key
    assert set(metrics["beam"]) == {"bleu_1", "bleu_2", "bleu_3", "bleu_4", "cider"}
    assert metrics["examples"]["test"] == 30 and metrics["train_captions_per_second"] > 0
    assert metrics["data"]["train"]["images"] + metrics["data"]["val"]["images"] == 400
    assert metrics["data"]["features"]["input"] == "pixels"
    model = keras.saving.load_model(RunDir(run_dir).best_model, compile=False)
    words = model.preprocessor.words
    assert words[:4] == ["", "[UNK]", "[START]", "[END]"] and "circle" in words
    assert metrics["vocabulary_size"] == len(words)
    check_finished_run_directory(run_dir, {f"attention_{i}.png" for i in range(1, 5)})


def test_export_captions_image_bytes_in_a_clean_process(trained_run, tmp_path):
    run_dir, data_dir = trained_run
    images = sorted((data_dir / "test" / "images").iterdir())[:3]
    argv = [str(images[0]), "-", str(images[1]), str(images[2])]
    answer = run_clean_client(
        CLEAN_CLIENT, run_dir / "export" / "1", *argv, cwd=tmp_path, warmup=run_dir / "export" / "1"
    )
    assert answer["inputs"] == {"image_bytes": "string"}
    assert answer["outputs"] == ["caption", "error"]
    assert answer["project_modules"] == []
    assert answer["decoded"] == [True, False, True, True]
    assert answer["caption"][1] == "" and all(answer["caption"][i] for i in (0, 2, 3))
    assert answer["error"] == ["", "not a decodable JPEG or PNG image", "", ""]
    assert answer["detailed"] == answer["caption"]
    batch, steps, regions = answer["attention_shape"]
    assert batch == 4 and steps == answer["words_shape"][1] and regions == 64


def test_best_keras_captions_image_bytes_in_a_fresh_process(trained_run, tmp_path):
    """The checkpoint alone, in a new Python: `generate` gives the export's captions."""
    run_dir, data_dir = trained_run
    images = [str(p) for p in sorted((data_dir / "test" / "images").iterdir())[:3]]
    fresh = generate_in_a_fresh_process(
        "captioning", RunDir(run_dir).best_model, images, tmp_path, files=True
    )
    export = tf.saved_model.load(str(run_dir / "export" / "1")).signatures["serving_default"]
    data = tf.constant([Path(p).read_bytes() for p in images])
    served = [c.decode("utf-8") for c in export(image_bytes=data)["caption"].numpy()]
    assert fresh == served and all(fresh)


def test_evaluate_rewrites_metrics_through_the_export(trained_run, tmp_path):
    run_dir = copy_of(trained_run[0], tmp_path)
    before = json.loads((run_dir / "metrics.json").read_text())
    assert evaluate.main(["--run_dir", str(run_dir)]) == 0
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["beam"] == before["beam"] and after["data"] == before["data"]
    assert after["greedy"] == before["greedy"]  # from best.keras, which evaluate loads too
    assert after["evaluated_export"].endswith("export/1")


def test_predict_prints_a_caption_per_image(trained_run, tmp_path, capsys):
    run_dir, data_dir = trained_run
    image = sorted((data_dir / "test" / "images").iterdir())[0]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    assert predict.main(["--run_dir", str(run_dir), str(image), str(broken)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert (
        lines[0].startswith(f"{image}\ta ")
        and lines[1] == f"{broken}\t(not a decodable JPEG or PNG)"
    )
    assert predict.main(["--run_dir", str(run_dir), str(tmp_path / "missing.png")]) == 1


def test_bad_data_writes_nothing(tmp_path, capsys):
    root = write_shapes(tmp_path / "data", {"train": 4, "test": 2}, size=16)
    (root / "test" / "captions.tsv").write_text("picture\tcaption\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    argv = ["--data_dir", str(root), "--output_dir", str(run_dir), *TINY_FLAGS]
    assert train.main(argv) == 1
    assert "captions.tsv: the header must name" in capsys.readouterr().err
    assert not run_dir.exists()


# === Bad input (see tests/bad_inputs.py) ===


def unreadable_test_images(tmp_path: Path) -> Path:
    """Every test image is bytes that decode as no image (before: trained, exported, then a
    70-line traceback and no metrics)."""
    root = write_shapes(tmp_path / "data", {"train": 6, "test": 2}, size=16)
    for image in (root / "test" / "images").iterdir():
        image.write_bytes(b"not an image")
    return root


BAD_INPUTS = [
    BadInput(
        "every_test_image_unreadable",
        "train",
        lambda run, tmp: [
            "--data_dir",
            str(unreadable_test_images(tmp)),
            "--output_dir",
            str(run),
            *TINY_FLAGS,
        ],
        1,
        r"^error: the test split has no image that decodes as JPEG or PNG \(2 tried",
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=str)
def test_bad_input(case, trained_run, tmp_path, capsys):
    check_bad_input("captioning", case, trained_run[0], tmp_path, capsys)
