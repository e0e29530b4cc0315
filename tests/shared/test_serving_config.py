"""`python -m shared.serving_config`: one models.config for several runs."""

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from shared import serving_config


def fake_run(root, versions=(1, 2, 3)):
    for version in versions:
        (root / "export" / str(version)).mkdir(parents=True)
        (root / "export" / str(version) / "saved_model.pb").write_bytes(b"")
    (root / "export" / "lite").mkdir()  # not a version
    (root / "export" / ".tmp-4-99").mkdir()  # an export still being written
    return root


def test_the_config_parses_and_serves_each_run(tmp_path, capsys):
    speech = fake_run(tmp_path / "runs" / "speech")
    sentiment = fake_run(tmp_path / "runs" / "sentiment", versions=(1,))
    output = tmp_path / "models.config"
    argv = [str(speech), str(sentiment / "export"), "--keep", "2", "--output", str(output)]
    assert serving_config.main(argv) == 0
    config = text_format.Parse(output.read_text(), model_server_config_pb2.ModelServerConfig())
    models = {m.name: m for m in config.model_config_list.config}
    assert list(models) == ["speech", "sentiment"]
    assert models["speech"].base_path == "/models/speech"
    assert models["speech"].model_platform == "tensorflow"
    assert list(models["speech"].model_version_policy.specific.versions) == [2, 3]
    assert dict(models["speech"].version_labels) == {"stable": 3, "previous": 2}
    assert dict(models["sentiment"].version_labels) == {"stable": 1}
    out = capsys.readouterr().out
    assert f'-v "{(speech / "export").resolve()}:/models/speech:ro"' in out
    assert "--model_config_file=/models/models.config" in out


def test_names_must_differ_and_runs_must_have_versions(tmp_path, capsys):
    first = fake_run(tmp_path / "a" / "speech")
    second = fake_run(tmp_path / "b" / "speech")
    output = tmp_path / "models.config"
    assert serving_config.main([str(first), str(second), "--output", str(output)]) == 1
    assert "two runs would be served as speech: pass --name" in capsys.readouterr().err
    argv = [str(first), str(second), "--name", "one", "--name", "two", "--output", str(output)]
    assert serving_config.main(argv) == 0
    (tmp_path / "empty").mkdir()
    assert serving_config.main([str(tmp_path / "empty"), "--output", str(output)]) == 1
    assert "no export version" in capsys.readouterr().err
