"""Configuration of the translation app: one flag per field."""

import dataclasses

from shared.config import CACHE_ROOT
from shared.config import DECODER_CELLS
from shared.config import RECURRENT_SPACE
from shared.config import BaseConfig
from shared.config import CacheConfig
from shared.config import DecoderConfig
from shared.config import RecurrentConfig
from shared.config import TFDSConfig
from shared.config import default
from shared.config import option

# The default Keras Tuner search space (tuning.space syntax; `--space` narrows it).
SEARCH_SPACE = (
    RECURRENT_SPACE.replace("cell=lstm,gru", "cell=gru,lstm")
    + ";attention=bahdanau,luong;embedding_dim=128,256;decoder_units=128,256,512"
)


@dataclasses.dataclass(frozen=True)
class TranslationConfig(TFDSConfig, CacheConfig, DecoderConfig, RecurrentConfig):
    """Attention encoder-decoder: subword tokens, BiGRU encoder, GRU decoder, beam search."""

    APP = "translation"
    PREDICT_INPUTS = ("INPUT", "Sentence or text file (one sentence per line)")

    output_dir: str = option("runs/translation", "Run directory")
    cache_dir: str = default(CacheConfig, "cache_dir", str(CACHE_ROOT / "translation"))
    tfds_name: str = option(
        "wmt14_translate/de-en",
        "TFDS translation data set used without --data_dir (one text feature per language)",
    )
    source_lang: str = option("en", "Column or TFDS feature of the source language")
    target_lang: str = option("de", "Column or TFDS feature of the target language")
    max_train_pairs: int = option(0, "Use at most this many training pairs (0: all)", min=0)
    # Tokenization (inside the graph).
    vocab_size: int = option(
        4000,
        "Subword vocabulary per language, including 4 special tokens (small corpora learn "
        "more from fewer, more frequent pieces; the output layer's cost grows with it)",
        min=8,
    )
    lowercase: bool = option(False, "Lower-case text before tokenizing (output is lower-case)")
    max_length: int = option(
        60, "Drop training pairs with more subword tokens than this on either side", min=1
    )
    vocab_sample_pairs: int = option(
        300000, "Learn the vocabularies on at most this many training pairs", min=1
    )
    bucketing: bool = option(True, "Batch pairs of similar length together")
    # Model.
    embedding_dim: int = option(256, "Token embedding size (both languages)", min=1)
    embedding_dropout: float = option(0.2, "Dropout on token embeddings", min=0.0, max=0.95)
    decoder_units: int = option(256, "Decoder GRU units", min=1)
    output_dropout: float = option(
        0.3, "Dropout on the attentional vectors before the output layer", min=0.0, max=0.95
    )
    label_smoothing: float = option(0.1, "Label smoothing of the training loss", min=0.0, max=0.5)
    # Decoding.
    beam_width: int = option(5, "Beam search width (1: greedy)", min=1)
    length_penalty: float = option(
        0.6, "GNMT length penalty exponent: higher prefers longer outputs (0: none)", min=0.0
    )
    max_output_ratio: float = option(
        1.5, "Longest output in tokens: this times the source length, plus 10", min=0.1
    )
    max_source_tokens: int = option(
        256,
        "Longest source translated, in subword tokens: a longer input is cut there (counted "
        "by evaluate, warned by predict), so one huge input costs at most that much time and "
        "memory in evaluate, predict and the export",
        min=1,
    )
    eval_batch_size: int = option(64, "Sentences per batch when translating", min=1)
    # Training loop and encoder block (RecurrentStack).
    batch_size: int = default(BaseConfig, "batch_size", 64, "Sentence pairs per batch")
    epochs: int = default(BaseConfig, "epochs", 12)
    learning_rate: float = default(BaseConfig, "learning_rate", 2e-3)
    ema_momentum: float = default(BaseConfig, "ema_momentum", 0.998)
    cosine_decay: bool = option(
        True, "Decay the learning rate along a cosine to 1% over --epochs (else constant)"
    )
    warmup_epochs: float = option(
        1.0,
        "With --cosine_decay, first raise the learning rate linearly from 0 over this many "
        "epochs, at most half of --epochs (high rates at the start saturate the attention)",
        min=0.0,
    )
    cell: str = default(
        RecurrentConfig, "cell", "gru", "Encoder and decoder recurrent cell (gru or lstm)"
    )
    units: int = default(RecurrentConfig, "units", 256, "Encoder units per layer and direction")
    dropout: float = default(RecurrentConfig, "dropout", 0.2, "Dropout on encoder-layer inputs")

    def __post_init__(self):
        super().__post_init__()
        if self.cell not in DECODER_CELLS:
            raise ValueError(f"--cell {self.cell}: the attention decoder takes gru or lstm")

    @property
    def warmup(self) -> float:
        """The warm-up in epochs: `--warmup_epochs`, at most half of `--epochs` (so the
        one-epoch smoke run still decays)."""
        return min(self.warmup_epochs, self.epochs / 2)
