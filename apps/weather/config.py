"""Configuration of the weather app: one flag per field."""

import dataclasses
from typing import Optional

from shared.config import RECURRENT_SPACE
from shared.config import BaseConfig
from shared.config import RecurrentConfig
from shared.config import default
from shared.config import option

LOSSES = ("mse", "mae", "huber")

# The default data set: Jena climate, 2009-2016, one row every 10 minutes.
JENA_URL = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/jena_climate_2009_2016.csv.zip"
)
JENA_DEFAULTS = {
    "time_column": "Date Time",
    "time_format": "%d.%m.%Y %H:%M:%S",
    "target_columns": ("T (degC)",),
    "resample": "1h",
}


# The default Keras Tuner search space (tuning.space syntax; `--space` narrows it).
SEARCH_SPACE = RECURRENT_SPACE + ";input_steps=24,48,72,120"


@dataclasses.dataclass(frozen=True)
class WeatherConfig(RecurrentConfig):
    """Multivariate, multi-horizon forecasting of target columns from a window of the past."""

    APP = "weather"
    PREDICT_INPUTS = ("CSV", "Recent observations")
    output_dir: str = option("runs/weather", "Run directory")
    csv: Optional[str] = option(
        None, "A CSV file to use (else the one *.csv in --data_dir, else the Jena climate data)"
    )
    time_column: str = option("", "Column with the timestamps (default: detected)")
    time_format: str = option("", "strftime format of the time column (default: inferred)")
    target_columns: tuple[str, ...] = option((), "Columns to forecast (default for Jena: T (degC))")
    input_columns: tuple[str, ...] = option(
        (),
        "Model inputs after one-hot encoding (default: "
        "every numeric column and <column>=<value> "
        "for each categorical value)",
    )
    resample: str = option(
        "",
        "Resample to this pandas frequency (e.g. 1h; default: keep the "
        "data's own step; 1h for Jena)",
    )
    sentinel_values: tuple[float, ...] = option((-9999.0,), "Numbers that mean 'missing'")
    input_steps: int = option(72, "History length in steps", min=1)
    horizon: int = option(24, "Steps ahead; every step 1..horizon is forecast at once", min=1)
    split_fractions: tuple[float, ...] = option(
        (0.7, 0.2, 0.1), "Chronological train,val,test fractions", min=0.0
    )
    time_features: bool = option(True, "Add hour-of-day and day-of-year as sin/cos inputs")
    residual: bool = option(
        True,
        "Forecast the change from the last observed value (needs every target among the inputs)",
    )
    loss: str = option("mae", "Training loss on normalized targets", choices=LOSSES)
    refit: str = default(BaseConfig, "refit", "scratch")
    batch_size: int = default(BaseConfig, "batch_size", 64, "Windows per batch")
    epochs: int = default(BaseConfig, "epochs", 30)
    patience: int = default(BaseConfig, "patience", 4)
    cell: str = default(RecurrentConfig, "cell", "gru")
    bidirectional: bool = default(RecurrentConfig, "bidirectional", False)
    dropout: float = default(RecurrentConfig, "dropout", 0.1)
    recurrent_dropout: float = default(
        RecurrentConfig,
        "recurrent_dropout",
        0.0,
        "Dropout on the recurrent state (one mask per window, as in variational RNNs); any "
        "value above 0 rules out the cuDNN kernel on a GPU, and on the dev data 0.1 did not "
        "forecast better than the ensemble of --members alone",
    )
    pooled_head: bool = option(
        True,
        "The head also reads the mean and max of the recurrent outputs over every step, "
        "not only the final state",
    )
    members: int = option(
        3,
        "Recurrent forecasters trained side by side in one model, each from its own "
        "initialization and with its own loss; the forecast is their average (1: one model)",
        min=1,
    )
    ema_momentum: float = default(BaseConfig, "ema_momentum", 0.99)

    def __post_init__(self):
        super().__post_init__()
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                "--split_fractions: three fractions (train,val,test) summing to 1, "
                f"got {','.join(map(str, self.split_fractions))}"
            )
        if min(self.split_fractions) <= 0:
            raise ValueError("--split_fractions: every split needs a positive fraction")

    def with_data_defaults(self) -> "WeatherConfig":
        """Fill the Jena-specific defaults when the default data set is used."""
        if self.data_dir or self.csv:
            return self
        values = {k: v for k, v in JENA_DEFAULTS.items() if not getattr(self, k)}
        return dataclasses.replace(self, **values)
