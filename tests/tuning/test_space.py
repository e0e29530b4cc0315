"""Search-space clauses: parsed into Keras Tuner parameters, checked against the config."""

import keras_tuner
import pytest

from apps.sentiment.config import SEARCH_SPACE as SENTIMENT_SPACE
from apps.sentiment.config import SentimentConfig
from apps.weather.config import WeatherConfig
from tuning.search import APPS
from tuning.search import load_app
from tuning.space import SpaceError
from tuning.space import parse_space
from tuning.space import typed_values


def test_clauses_become_choices_ranges_and_fixed_values():
    space = parse_space(
        "units=32,64,128;cell=gru;learning_rate=1e-4..1e-2:log;num_layers=1..3;"
        "bidirectional=true,false;dropout=0.0..0.5:0.1",
        SentimentConfig,
    )
    hp = keras_tuner.HyperParameters()
    for dimension in space.values():
        dimension.add_to(hp)
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds == {
        "units": "Choice",
        "cell": "Fixed",
        "learning_rate": "Float",
        "num_layers": "Int",
        "bidirectional": "Boolean",
        "dropout": "Float",
    }
    assert hp.values["cell"] == "gru" and hp.values["units"] == 32
    learning_rate = next(p for p in hp.space if p.name == "learning_rate")
    assert learning_rate.sampling == "log" and learning_rate.min_value == 1e-4
    dropout = next(p for p in hp.space if p.name == "dropout")
    assert dropout.step == 0.1


@pytest.mark.parametrize(
    "clause,message",
    [
        ("unit=32", "has no field 'unit'"),
        ("units", "write name=values"),
        ("units=32,abc", "'abc' is not a int"),
        ("cell=gru,transformer", "invalid value 'transformer'"),
        ("dropout=0.2..1.5", "must be <= 0.95"),
        ("learning_rate=1e-2..1e-4", "from low to high"),
        ("learning_rate=0..1e-2:log", "must start above 0"),
        ("cell=lstm..gru", "needs a numeric field"),
        ("units=32,32", "repeated"),
    ],
)
def test_bad_clauses_are_named(clause, message):
    with pytest.raises(SpaceError, match=message):
        parse_space(clause, SentimentConfig)


def test_every_app_declares_a_valid_default_space():
    for app in APPS:
        task, space = load_app(app)
        dimensions = parse_space(space, task.config_class)
        assert {"learning_rate", "batch_size"} <= set(dimensions), app
    assert "input_steps" in parse_space(load_app("weather")[1], WeatherConfig)
    assert "pooling" in parse_space(SENTIMENT_SPACE, SentimentConfig)


def test_values_take_the_fields_types():
    values = typed_values({"bidirectional": 1, "units": 64, "dropout": 0}, SentimentConfig)
    assert values == {"bidirectional": True, "units": 64, "dropout": 0.0}
    assert isinstance(values["bidirectional"], bool) and isinstance(values["dropout"], float)


def test_the_verdict_weighs_the_gain_against_the_seed_spread():
    from tuning.results import compare

    clear = compare([0.80, 0.81, 0.82], [0.70, 0.71, 0.72], higher_is_better=True)
    assert clear["verdict"] == "the best trial beats the default configuration"
    noisy = compare([0.80, 0.60, 0.90], [0.70, 0.75, 0.65], higher_is_better=True)
    assert noisy["verdict"].startswith("no clear difference")
    lower = compare([2.0, 2.1], [1.5, 1.6], higher_is_better=False)  # e.g. an MAE
    assert lower["verdict"] == "the default configuration beats the best trial"
    assert lower["gain"] == pytest.approx(-0.5)
