"""Configuration of the captioning app: one flag per field."""

import dataclasses

from shared.config import CACHE_ROOT
from shared.config import DECODER_CELLS
from shared.config import BackboneConfig
from shared.config import BaseConfig
from shared.config import DecoderConfig
from shared.config import GroupedFilesConfig
from shared.config import TFDSConfig
from shared.config import default
from shared.config import option

# The default Keras Tuner search space (tuning.space syntax; `--space` narrows it).
SEARCH_SPACE = (
    "cell=lstm,gru;units=256,512;embedding_dim=128,256;attention=bahdanau,luong;"
    "dropout=0.0..0.5;l2=0.0,1e-5;attention_penalty=0.0,1.0;"
    "learning_rate=1e-4..1e-2:log;batch_size=32,64"
)


@dataclasses.dataclass(frozen=True)
class CaptioningConfig(TFDSConfig, GroupedFilesConfig, DecoderConfig, BackboneConfig):
    """Show, Attend and Tell: CNN feature grid, attention LSTM decoder, beam search."""

    APP = "captioning"
    PREDICT_INPUTS = ("IMAGE", "JPEG or PNG image file(s)")
    SMALL_CNN_SIZE = 128

    output_dir: str = option("runs/captioning", "Run directory")
    tfds_name: str = option(
        "coco_captions",
        "TFDS captioning data set used without --data_dir (COCO 2014, Karpathy splits)",
    )
    max_train_images: int = option(0, "Use at most this many training images (0: all)", min=0)
    # Images.
    cache_dir: str = default(BackboneConfig, "cache_dir", str(CACHE_ROOT / "captioning"))
    # Captions.
    min_word_count: int = option(
        5, "Words seen fewer times in the training captions become [UNK]", min=1
    )
    max_caption_length: int = option(
        20, "Training captions with more words are left out; generated captions stop here", min=1
    )
    # Model.
    embedding_dim: int = option(256, "Word embedding size", min=1)
    units: int = option(512, "Decoder units and size of the projected image features", min=1)
    cell: str = option("lstm", "Decoder recurrent cell", choices=DECODER_CELLS)
    attention: str = default(DecoderConfig, "attention", "bahdanau")
    context_layer: bool = default(DecoderConfig, "context_layer", True)
    dropout: float = option(
        0.3, "Dropout on image features, word embeddings and decoder outputs", min=0.0, max=0.95
    )
    l2: float = option(0.0, "L2 penalty on the decoder's and the output layer's kernels", min=0.0)
    attention_penalty: float = option(
        1.0,
        "Weight of the doubly stochastic attention penalty: every image position should "
        "receive about as much attention over a caption as any other (0: off)",
        min=0.0,
    )
    label_smoothing: float = option(0.0, "Label smoothing of the training loss", min=0.0, max=0.5)
    # Decoding.
    beam_width: int = option(3, "Beam search width (1: greedy)", min=1)
    length_penalty: float = option(
        0.0, "GNMT length penalty exponent: higher prefers longer captions (0: none)", min=0.0
    )
    eval_batch_size: int = option(32, "Images per batch when captioning", min=1)
    # Training loop.
    batch_size: int = default(BaseConfig, "batch_size", 64, "Captions per batch")
    epochs: int = default(BaseConfig, "epochs", 20)
    learning_rate: float = default(BaseConfig, "learning_rate", 1e-3)
    validation_split: float = default(
        TFDSConfig,
        "validation_split",
        0.1,
        "Fraction of train/ images (with all their captions) used for validation when the "
        "data has no val/ split",
    )
