from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from shared import io
from shared.callbacks import BestModelCheckpoint
from shared.callbacks import ResumableEarlyStopping
from shared.callbacks import best_and_wait
from shared.callbacks import load_state
from shared.callbacks import roll_back
from shared.callbacks import save_state
from shared.callbacks import weights_file
from shared.config import BaseConfig
from shared.errors import UserError
from shared.run_dir import RunDir
from shared.training import finish_run
from shared.training import fit
from shared.training import fit_epochs
from shared.training import make_optimizer
from shared.training import prepare_run

STEPS_PER_EPOCH = 4


def start_run(config: BaseConfig) -> RunDir:
    """`prepare_run` into the config's own directory."""
    return prepare_run(config, config.output_dir)[0]


def fit_toy(model, train, validation, config, **kwargs):
    return fit(model, train, validation, config, run=RunDir(Path(config.output_dir)), **kwargs)


def fit_epochs_toy(model, dataset, config, **kwargs):
    run = RunDir(Path(config.output_dir))
    return fit_epochs(
        model,
        dataset,
        state_dir=run.refit_state,
        history_csv=run.root / "refit_history.csv",
        logs=run.logs / "refit",
        verbose=0,
        **kwargs,
    )


def toy_config(tmp_path, **overrides) -> BaseConfig:
    values = dict(output_dir=str(tmp_path / "run"), epochs=4, patience=10, learning_rate=0.01)
    return BaseConfig(**{**values, **overrides})


def toy_data(targets_nan: bool = False) -> tf.data.Dataset:
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    if targets_nan:
        y[:] = np.nan
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32 // STEPS_PER_EPOCH)


def toy_model(config: BaseConfig) -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=make_optimizer(config), loss="mse")
    return model


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self, interrupt_at=None):
        super().__init__()
        self.epochs, self.interrupt_at = [], interrupt_at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.interrupt_at:
            raise KeyboardInterrupt
        self.epochs.append(epoch)


def test_interrupted_run_resumes_after_its_last_complete_epoch(tmp_path):
    config = toy_config(tmp_path)
    run = start_run(config)
    with pytest.raises(KeyboardInterrupt):
        fit_toy(
            toy_model(config),
            toy_data(),
            toy_data(),
            config,
            num_train_examples=32,
            callbacks=[EpochRecorder(interrupt_at=2)],
            verbose=0,
        )
    state = load_state(run.resume_state)
    assert state["epoch"] == 2
    # The newest epoch's weights, and the one before (for workers that must step back).
    assert sorted(p.name for p in run.resume_state.glob("*.h5")) == [
        "epoch-0001.weights.h5",
        state["weights"],
    ]

    recorder = EpochRecorder()
    model = toy_model(config)  # fresh weights: everything must come from the saved state
    result = fit_toy(
        model,
        toy_data(),
        toy_data(),
        config,
        num_train_examples=32,
        callbacks=[recorder],
        verbose=0,
    )
    assert recorder.epochs == [2, 3]
    assert [record["epoch"] for record in result.history] == [1, 2, 3, 4]
    assert int(model.optimizer.iterations) == 4 * STEPS_PER_EPOCH  # optimizer state restored
    assert run.history.read_text().count("\n") == 1 + 4
    assert result.stop_reason == "completed" and run.best_model.exists()
    assert result.train_examples_per_second > 0


def test_finished_run_starts_afresh_after_finish_run(tmp_path):
    config = toy_config(tmp_path, epochs=2)
    run = start_run(config)
    fit_toy(toy_model(config), toy_data(), toy_data(), config, num_train_examples=32, verbose=0)
    finish_run(run)
    recorder = EpochRecorder()
    fit_toy(
        toy_model(config),
        toy_data(),
        toy_data(),
        config,
        num_train_examples=32,
        callbacks=[recorder],
        verbose=0,
    )
    assert recorder.epochs == [0, 1]


def test_resume_with_other_settings_is_refused(tmp_path):
    config = toy_config(tmp_path)
    start_run(config)
    with pytest.raises(KeyboardInterrupt):
        fit_toy(
            toy_model(config),
            toy_data(),
            toy_data(),
            config,
            num_train_examples=32,
            callbacks=[EpochRecorder(interrupt_at=1)],
            verbose=0,
        )
    start_run(toy_config(tmp_path, epochs=9))  # more epochs: allowed
    with pytest.raises(UserError, match="batch_size: 32 -> 8"):
        start_run(toy_config(tmp_path, batch_size=8))


def test_nan_loss_before_any_checkpoint_is_a_clear_error(tmp_path):
    config = toy_config(tmp_path)
    start_run(config)
    with pytest.raises(UserError, match="NaN"):
        fit_toy(
            toy_model(config),
            toy_data(targets_nan=True),
            toy_data(),
            config,
            num_train_examples=32,
            verbose=0,
        )


def test_best_and_wait():
    history = [{"val_loss": 0.5}, {"val_loss": 0.3}, {"val_loss": 0.4}, {"val_loss": 0.6}]
    assert best_and_wait(history, "val_loss", "min") == (0.3, 2)
    assert best_and_wait(history, "val_loss", "max") == (0.6, 0)
    assert best_and_wait([], "val_loss", "min") == (None, 0)


def test_checkpoint_keeps_the_best_of_an_earlier_run(tmp_path):
    path = tmp_path / "best.keras"
    callback = BestModelCheckpoint(path, best=0.3)
    callback.set_model(toy_model(toy_config(tmp_path)))
    callback.on_epoch_end(0, {"val_loss": 0.4})
    assert not path.exists()
    callback.on_epoch_end(1, {"val_loss": float("nan")})
    assert not path.exists()
    callback.on_epoch_end(2, {"val_loss": 0.2})
    assert path.exists() and callback.best == 0.2


def test_early_stopping_keeps_the_patience_of_an_earlier_run(tmp_path):
    callback = ResumableEarlyStopping(best=0.3, wait=2, patience=3, monitor="val_loss")
    callback.set_model(toy_model(toy_config(tmp_path)))
    callback.on_train_begin()
    callback.on_epoch_end(5, {"val_loss": 0.5})
    assert callback.model.stop_training


def test_config_json_is_written_atomically_and_complete(tmp_path):
    config = toy_config(tmp_path)
    run = start_run(config)
    assert io.read_json(run.config)["batch_size"] == config.batch_size
    assert [p.name for p in run.root.iterdir()] == ["config.json"]


def test_fit_epochs_trains_exactly_its_epochs_and_resumes_after_the_last_one(tmp_path):
    config = toy_config(tmp_path)
    run = start_run(config)
    model = toy_model(config)
    history = fit_epochs_toy(model, toy_data(), config, epochs=2)
    assert [r["epoch"] for r in history] == [1, 2]
    trained = [w.copy() for w in model.get_weights()]
    # Asked for 3, an interrupted call continues after epoch 2 with the saved weights.
    again = toy_model(config)
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    original_fit = again.fit
    again.fit = lambda *a, **k: original_fit(*a, **{**k, "callbacks": [*k["callbacks"], counter]})
    history = fit_epochs_toy(again, toy_data(), config, epochs=3)
    assert [r["epoch"] for r in history] == [1, 2, 3] and len(steps) == STEPS_PER_EPOCH
    assert not np.allclose(again.get_weights()[0], trained[0])  # one more epoch from there
    assert (run.root / "refit_history.csv").read_text().count("\n") == 4


def test_fit_epochs_with_weight_averaging_ends_on_the_average(tmp_path):
    def kernel_shift(ema_momentum: float, name: str) -> float:
        config = toy_config(tmp_path / name, ema_momentum=ema_momentum, learning_rate=0.1)
        start_run(config)
        model = toy_model(config)
        start = model.get_weights()[0].copy()
        fit_epochs_toy(model, toy_data(), config, epochs=2)
        return float(np.abs(model.get_weights()[0] - start).max())

    # With momentum 0.9999 the average stays at the weights after the first of the 8 steps
    # (Adam moves a weight by up to the learning rate, 0.1, per step) ...
    assert kernel_shift(0.9999, "averaged") < 0.105
    # ... while the raw weights move on.
    assert kernel_shift(0.0, "raw") > 0.3


def test_finish_run_makes_the_final_fit_the_checkpoint(tmp_path):
    config = toy_config(tmp_path, epochs=1)
    run = start_run(config)
    fit_toy(toy_model(config), toy_data(), toy_data(), config, num_train_examples=32, verbose=0)
    final = toy_model(config)
    io.save_model(final, run.refit_model)
    finish_run(run)
    assert not run.resume_state.exists()
    reloaded = keras.saving.load_model(run.best_model)
    np.testing.assert_allclose(reloaded.get_weights()[0], final.get_weights()[0])


def test_make_optimizer_decays_along_a_cosine_when_given_steps(tmp_path):
    config = toy_config(tmp_path, learning_rate=0.01)
    assert float(make_optimizer(config).learning_rate) == pytest.approx(0.01)
    optimizer = make_optimizer(config, decay_steps=100)
    optimizer.build([keras.Variable(0.0)])
    rates = []
    for step in (0, 50, 100, 200):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([0.01, 0.00505, 0.0001, 0.0001], rel=1e-3)


def test_make_optimizer_warms_up_linearly_before_the_cosine(tmp_path):
    config = toy_config(tmp_path, learning_rate=0.01)
    optimizer = make_optimizer(config, decay_steps=100, warmup_steps=10)
    optimizer.build([keras.Variable(0.0)])
    rates = []
    for step in (0, 5, 10, 60, 110, 200):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([0.0, 0.005, 0.01, 0.00505, 0.0001, 0.0001], rel=1e-3, abs=1e-9)


def test_weight_averaging_is_what_validation_and_the_checkpoint_see(tmp_path):
    config = toy_config(tmp_path, ema_momentum=0.9999, learning_rate=0.1)
    run = start_run(config)
    model = toy_model(config)
    first = []  # the weights after the first step, where the average starts
    snapshot = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: first or first.append(model.get_weights())
    )
    fit_toy(
        model,
        toy_data(),
        toy_data(),
        config,
        num_train_examples=32,
        callbacks=[snapshot],
        verbose=0,
    )
    averaged = keras.models.load_model(run.best_model).get_weights()
    state = load_state(run.resume_state)
    raw = toy_model(config)
    raw.optimizer.build(raw.trainable_variables)
    raw.load_weights(run.resume_state / state["weights"])
    # With momentum 0.9999 the average barely leaves the first step's weights ...
    np.testing.assert_allclose(averaged[0], first[0][0], atol=0.01)
    # ... while training itself moved on (the resume state keeps the raw weights).
    assert np.abs(raw.get_weights()[0] - first[0][0]).max() > 0.1
    # Validation was computed with the average, so it barely improved.
    losses = [record["val_loss"] for record in state["history"]]
    assert losses[-1] == pytest.approx(losses[0], rel=0.02)


def test_a_fresh_run_never_loads_the_checkpoints_of_a_finished_one(tmp_path):
    config = toy_config(tmp_path, epochs=1)
    run = start_run(config)
    fit_toy(toy_model(config), toy_data(), toy_data(), config, num_train_examples=32, verbose=0)
    io.save_model(toy_model(config), run.refit_model)
    finish_run(run)  # the final fit's model became best.keras
    assert run.best_model.exists()
    # The new run diverges in its first epoch: it must not end on the old run's weights.
    fresh, resuming = prepare_run(config, config.output_dir)
    assert not resuming
    assert not run.best_model.exists() and not run.refit_state.exists()
    with pytest.raises(UserError, match="diverged"):
        fit_toy(
            toy_model(config),
            toy_data(targets_nan=True),
            toy_data(targets_nan=True),
            config,
            num_train_examples=32,
            verbose=0,
        )


def test_a_state_steps_back_one_epoch_or_to_the_start(tmp_path):
    """What a worker one epoch ahead of another does before a cluster resumes."""
    history = [{"epoch": e, "loss": 1.0 / e} for e in (1, 2, 3)]
    for epoch in (1, 2, 3):
        (tmp_path / weights_file(epoch)).write_bytes(b"w")
        save_state(tmp_path, history[:epoch], weights=weights_file(epoch))
    assert sorted(p.name for p in tmp_path.glob("*.h5")) == [weights_file(2), weights_file(3)]
    roll_back(tmp_path, 2)
    state = load_state(tmp_path)
    assert (state["epoch"], state["weights"], state["history"]) == (2, weights_file(2), history[:2])
    with pytest.raises(UserError, match="no longer holds epoch 1"):
        roll_back(tmp_path, 1)
    roll_back(tmp_path, 0)
    assert load_state(tmp_path) is None


def test_mixed_float16_on_a_gpu_scales_the_loss_and_keeps_the_weight_average(monkeypatch):
    """With a GPU visible, --mixed_precision means float16: the optimizer comes wrapped in a
    LossScaleOptimizer, and fit still sees (and swaps in) the inner optimizer's average."""
    from shared import precision
    from shared.training import averages_weights

    config = BaseConfig(mixed_precision=True, ema_momentum=0.99)
    assert precision.policy_name(config) == "mixed_bfloat16"  # no GPU here
    assert averages_weights(make_optimizer(config))
    monkeypatch.setattr(precision, "gpu_visible", lambda: True)
    assert precision.policy_name(config) == "mixed_float16"
    optimizer = make_optimizer(config)
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    assert averages_weights(optimizer) and not optimizer.use_ema  # the wrapper has none itself
    assert not averages_weights(make_optimizer(BaseConfig(mixed_precision=True)))
    assert precision.export_tolerance(config) > precision.export_tolerance(BaseConfig())
