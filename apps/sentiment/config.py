"""Configuration of the sentiment app: one flag per field."""

import dataclasses

from shared.config import RECURRENT_SPACE
from shared.config import RecurrentConfig
from shared.config import TFDSConfig
from shared.config import default
from shared.config import option

POOLINGS = ("last", "mean_max")


# The default Keras Tuner search space (tuning.space syntax; `--space` narrows it).
SEARCH_SPACE = (
    RECURRENT_SPACE + ";embedding_dim=32,64,128;pooling=last,mean_max;head_dropout=0.0..0.5"
)


@dataclasses.dataclass(frozen=True)
class SentimentConfig(TFDSConfig, RecurrentConfig):
    """Review sentiment with an embedding, a recurrent block and a softmax head."""

    APP = "sentiment"
    PREDICT_INPUTS = ("INPUT", "Text file or review string")
    output_dir: str = option("runs/sentiment", "Run directory")
    tfds_name: str = option(
        "imdb_reviews",
        "TFDS text-classification data set used without --data_dir (features: text, label)",
    )
    class_names: tuple[str, ...] = option(
        (),
        "Class order of the probabilities (default: label folders sorted, or the TFDS label names)",
    )
    vocab_size: int = option(20000, "Vocabulary size, including padding and [UNK]", min=3)
    max_length: int = option(
        400, "Tokens kept per review (longer reviews keep head and tail)", min=1
    )
    embedding_dim: int = option(64, "Token embedding size", min=1)
    embedding_dropout: float = option(0.3, "Dropout on token embeddings", min=0.0, max=0.95)
    pooling: str = option(
        "mean_max",
        "Review vector from the recurrent outputs: the last "
        "state, or masked mean and max over time",
        choices=POOLINGS,
    )
    head_dropout: float = option(0.4, "Dropout before the output layer", min=0.0, max=0.95)
    bucketing: bool = option(
        True, "Batch reviews of similar length together (else pad every batch to --max_length)"
    )
    units: int = default(RecurrentConfig, "units", 32)
    dropout: float = default(RecurrentConfig, "dropout", 0.2)
    l2: float = default(RecurrentConfig, "l2", 1e-5)
    refit: str = default(RecurrentConfig, "refit", "fine_tune")
