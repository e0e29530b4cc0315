"""The encoder-decoder: source ids and target ids (shifted right) in, next-token logits out."""

import keras
from keras import ops

from apps.translation.config import TranslationConfig
from apps.translation.pipeline import Tokenizers
from apps.translation.pipeline import TranslationModel
from shared.layers import AttentionDecoder
from shared.layers import MaskedPooling
from shared.layers import RecurrentStack
from shared.losses import MaskedAccuracy
from shared.losses import MaskedSequenceLoss
from shared.precision import network_precision
from shared.training import make_optimizer


def build_model(
    config: TranslationConfig, *, source_vocab_size: int, target_vocab_size: int
) -> keras.Model:
    """BiGRU encoder over masked source embeddings -> attention decoder -> vocabulary logits.

    `--cell` chooses the encoder's and the decoder's cell alike (GRU by default).

    The decoder starts from a projection of the mean encoder output. Layer names are what
    `apps.translation.decoding.Translator` looks up to run the parts one step at a time.
    """
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
    x = keras.layers.Embedding(
        source_vocab_size, config.embedding_dim, mask_zero=True, name="source_embedding"
    )(source)
    x = keras.layers.Dropout(config.embedding_dropout, name="source_dropout")(x)
    memory = RecurrentStack(**config.recurrent_kwargs(), return_sequences=True, name="encoder")(x)
    summary = MaskedPooling(modes=("mean",), name="encoder_mean")(memory)
    initial_state = keras.layers.Dense(config.decoder_units, activation="tanh", name="bridge")(
        summary
    )
    y = keras.layers.Embedding(target_vocab_size, config.embedding_dim, name="target_embedding")(
        target_in
    )
    y = keras.layers.Dropout(config.embedding_dropout, name="target_dropout")(y)
    outputs, _ = AttentionDecoder(
        config.decoder_units,
        cell=config.cell,
        l2=config.l2,
        **config.decoder_kwargs(),
        name="decoder",
    )(y, memory, initial_state, memory_mask=ops.not_equal(source, 0))
    outputs = keras.layers.Dropout(config.output_dropout, name="output_dropout")(outputs)
    logits = keras.layers.Dense(target_vocab_size, dtype="float32", name="logits")(outputs)
    return keras.Model({"source": source, "target_in": target_in}, logits, name="translation")


def compile_model(
    model: keras.Model, config: TranslationConfig, steps_per_epoch: int | None = None
) -> keras.Model:
    """Adam; with `steps_per_epoch` and `--cosine_decay`: warm-up, then a cosine to 1%."""
    decay_steps = warmup_steps = None
    if config.cosine_decay and steps_per_epoch:
        warmup_steps = int(config.warmup * steps_per_epoch)
        decay_steps = config.epochs * steps_per_epoch - warmup_steps
    optimizer = make_optimizer(config, decay_steps=decay_steps, warmup_steps=warmup_steps or 0)
    model.compile(
        optimizer=optimizer,
        loss=MaskedSequenceLoss(config.label_smoothing),
        metrics=[MaskedAccuracy()],
    )
    return model


def build_translator(
    config: TranslationConfig, tokenizers: Tokenizers, *, steps_per_epoch: int | None = None
) -> TranslationModel:
    """The compiled translator owning its tokenizers: `generate` takes raw text."""
    with network_precision(config):
        network = build_model(
            config,
            source_vocab_size=tokenizers.source.vocabulary_size,
            target_vocab_size=tokenizers.target.vocabulary_size,
        )
    model = TranslationModel(
        network,
        tokenizers,
        beam_width=config.beam_width,
        length_penalty=config.length_penalty,
        max_output_ratio=config.max_output_ratio,
        max_source_tokens=config.max_source_tokens,
        name="translation_model",
    )
    return compile_model(model, config, steps_per_epoch)
