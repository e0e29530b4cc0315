"""The GPU path of every app's defaults, checked on CPU.

- cuDNN: every recurrent layer of the default model runs the cuDNN kernel, read with
  `shared.cudnn` (Keras is told a GPU is visible and each LSTM/GRU layer's kernel choice and
  mask are recorded), on the training batches of the tests' generated data with the hazards
  real data have (a review that is empty after cleaning, an empty sentence).
- `--mixed_precision` (bfloat16 here): the network computes in bfloat16, the loss falls, and
  the export takes and returns what the float32 model's does.
Each app's default config is used as it is, except the sizes (units, vocabularies, images),
which decide neither.
"""

import dataclasses
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from shared import cudnn
from shared.cudnn import cudnn_report
from shared.cudnn import format_report
from tests.apps.captioning.conftest import small_shapes
from tests.apps.sentiment.conftest import write_reviews
from tests.apps.speech.conftest import write_clips
from tests.apps.translation.conftest import write_corpus
from tests.apps.video.conftest import small_motion
from tests.apps.weather.conftest import messy
from tests.apps.weather.conftest import signal_frame
from tests.apps.weather.conftest import write_csv
from tuning.search import load_app

# Per app: the data the tests generate, and the size fields that make the model small.
SMALL = {
    "sentiment": dict(vocab_size=60, embedding_dim=4, units=4, batch_size=8),
    "translation": dict(
        vocab_size=40, embedding_dim=4, units=4, decoder_units=4, attention_units=4, batch_size=8
    ),
    "weather": dict(units=4, members=1, target_columns=("temp",), batch_size=32),
    "speech": dict(
        sample_rate=8000, clip_seconds=0.25, mel_bins=16, cepstral_coefficients=12,
        conv_filters=4, units=4, attention_units=4, head_units=8, batch_size=8,
    ),
    "captioning": dict(
        backbone_weights="none", image_size=32, units=8, embedding_dim=4, attention_units=4,
        min_word_count=1, batch_size=16,
    ),
    "video": dict(
        backbone_weights="none", image_size=32, num_frames=8, units=4, frame_units=8,
        attention_units=4, batch_size=4,
    ),
}  # fmt: skip


MAX_BATCHES = 8  # every batch of sentiment's and translation's data, with their hazards


def write_data(app: str, root: Path) -> Path:
    if app == "sentiment":
        for split in ("train", "test"):
            write_reviews(root, split, copies=2)
        (root / "train" / "pos" / "empty.txt").write_text("<br /><br />...", encoding="utf-8")
        return root
    if app == "translation":
        data = write_corpus(root, train=60, test=5)
        with open(data / "train.tsv", "a", encoding="utf-8") as tsv:
            tsv.write("\tnull\n...\t...\n")  # an empty source; punctuation only
        return data
    if app == "weather":
        return write_csv(messy(signal_frame()), root / "station.csv").parent
    if app == "speech":
        for split in ("train", "test"):
            write_clips(root, split, copies=4)
        return root
    if app == "captioning":
        return small_shapes(root, train=16, test=4)
    return small_motion(root, train=3, test=1)


@dataclasses.dataclass
class Prepared:
    task: Any
    config: Any
    data: Any
    preprocessor: Any
    datasets: Any


@pytest.fixture(scope="module", params=list(SMALL))
def prepared(request, tmp_path_factory) -> Prepared:
    """One app's task with its data loaded, preprocessing fitted and datasets made."""
    app, root = request.param, tmp_path_factory.mktemp(request.param)
    task, _ = load_app(app)
    config = task.config_class(
        data_dir=str(write_data(app, root / "data")), output_dir=str(root / "run"), **SMALL[app]
    )
    data, config = task.load_data(config)
    preprocessor = task.fit_preprocessing(config, data)
    datasets = task.make_datasets(config, data, preprocessor)
    return Prepared(task, config, data, preprocessor, datasets)


def test_every_recurrent_layer_of_the_defaults_takes_cudnn(prepared):
    model = prepared.task.build_model(prepared.config, prepared.preprocessor, steps_per_epoch=1)
    report = cudnn_report(model.network, prepared.datasets.train.take(MAX_BATCHES))
    assert report and all(choice.kernel == "cudnn" for choice in report), format_report(report)
    assert not [choice for choice in report if choice.bad_mask_batches], format_report(report)


def test_mixed_precision_trains_and_exports_as_float32(prepared):
    task, datasets = prepared.task, prepared.datasets
    config = dataclasses.replace(prepared.config, mixed_precision=True)
    model = task.build_model(config, prepared.preprocessor, steps_per_epoch=4)
    assert keras.config.dtype_policy().name == "float32"  # the policy does not leak
    recurrent = [x for x in model.network._flatten_layers() if isinstance(x, cudnn.LAYERS)]
    assert recurrent and all(x.compute_dtype == "bfloat16" for x in recurrent)
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    keras.utils.set_random_seed(0)
    few = datasets.train.take(2).cache()  # the same two batches, again and again
    losses = model.fit(few, epochs=10, verbose=0).history["loss"]
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    # The export's signatures take and return float32 where they take or return floats.
    for name, endpoint in task.serving(model, config, prepared.data).endpoints.items():
        traced = tf.function(endpoint.fn).get_concrete_function(*endpoint.input_signature)
        specs = [*endpoint.input_signature, *traced.structured_outputs.values()]
        assert all(x.dtype == tf.float32 for x in specs if x.dtype.is_floating), (name, specs)


def test_the_report_names_what_blocks_cudnn():
    """Recurrent dropout, a step-wise decoder's cell and a fully masked row are each named."""
    from shared.layers import AttentionDecoder
    from shared.layers import RecurrentStack

    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(9, 4, mask_zero=True)(tokens)
    memory = RecurrentStack(4, cell="gru", return_sequences=True, name="encoder")(embedded)
    dropped = RecurrentStack(4, recurrent_dropout=0.1, name="dropped")(embedded)
    outputs, _ = AttentionDecoder(4, name="decoder")(
        keras.layers.Embedding(9, 4)(tokens), memory, keras.layers.Dense(4)(dropped)
    )
    model = keras.Model(tokens, outputs)
    good, empty = np.array([[1, 2, 0]]), np.array([[1, 2, 0], [0, 0, 0]])
    kernels = {c.layer: (c.kernel, c.reason) for c in cudnn_report(model, [good, empty])}
    assert kernels == {
        "encoder/gru_0": ("cudnn", "mask rejected in 1 batch(es)"),
        "dropped/lstm_0": ("standard", "recurrent_dropout"),
        "decoder/gru_cell": ("step-wise", "cell stepped in a loop"),
    }
    assert dataclasses.is_dataclass(cudnn_report(model, [good])[0])
