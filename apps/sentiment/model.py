"""The sentiment classifier: token ids in, class probabilities out; wrapped with its tokenizer."""

import keras

from apps.sentiment.config import SentimentConfig
from apps.sentiment.tokenizer import ReviewTokenizer
from shared.layers import MaskedPooling
from shared.layers import RecurrentStack
from shared.pipeline import Pipeline
from shared.precision import network_precision
from shared.training import make_optimizer


def build_model(config: SentimentConfig, *, vocab_size: int, num_classes: int) -> keras.Model:
    """Embedding (mask on id 0) -> recurrent block -> pooled review vector -> softmax.

    Padding is masked end to end, so a review gives the same probabilities alone or padded in
    a batch of longer ones.
    """
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, name="embedding")(
        token_ids
    )
    # The same embedding features are dropped at every step of a review (spatial dropout).
    x = keras.layers.Dropout(
        config.embedding_dropout,
        noise_shape=(None, 1, config.embedding_dim),
        name="embedding_dropout",
    )(x)
    sequence_output = config.pooling != "last"
    x = RecurrentStack(
        **config.recurrent_kwargs(), return_sequences=sequence_output, name="recurrent"
    )(x)
    if sequence_output:
        x = MaskedPooling(modes=("mean", "max"), name="pooling")(x)
    x = keras.layers.Dropout(config.head_dropout, name="head_dropout")(x)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model({"token_ids": token_ids}, probabilities, name="sentiment")


def build_classifier(config: SentimentConfig, tokenizer: ReviewTokenizer) -> Pipeline:
    """The compiled classifier owning its tokenizer: `predict` takes review strings."""
    with network_precision(config):
        network = build_model(
            config, vocab_size=tokenizer.vocabulary_size, num_classes=len(config.class_names)
        )
    return compile_model(Pipeline(network, tokenizer, name="sentiment_classifier"), config)


def compile_model(model: keras.Model, config: SentimentConfig) -> keras.Model:
    model.compile(
        optimizer=make_optimizer(config),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
