"""Configuration of the speech-commands app: one flag per field."""

import dataclasses

from shared.config import CACHE_ROOT
from shared.config import RECURRENT_SPACE
from shared.config import BaseConfig
from shared.config import CacheConfig
from shared.config import GroupedFilesConfig
from shared.config import RecurrentConfig
from shared.config import TFDSConfig
from shared.config import default
from shared.config import option

UTTERANCE_NORMALIZATIONS = ("none", "mean", "mean_var")


# The default Keras Tuner search space (tuning.space syntax; `--space` narrows it).
SEARCH_SPACE = RECURRENT_SPACE + ";cepstral_coefficients=0,13,20;conv_filters=16,32,64"


@dataclasses.dataclass(frozen=True)
class SpeechConfig(TFDSConfig, GroupedFilesConfig, CacheConfig, RecurrentConfig):
    """Keyword recognition: log-mel features, conv front end, recurrent block, attention pooling."""

    APP = "speech"
    PREDICT_INPUTS = ("WAV", "WAV file (any rate or format)")
    PREDICT_TOP = True
    output_dir: str = option("runs/speech", "Run directory")
    cache_dir: str = default(CacheConfig, "cache_dir", str(CACHE_ROOT / "speech"))
    tfds_name: str = option(
        "speech_commands",
        "TFDS audio-classification data set used without --data_dir (features: audio, label)",
    )
    class_names: tuple[str, ...] = option(
        (),
        "Class order of the probabilities (default: label folders sorted, or the TFDS label names)",
    )
    # Audio.
    sample_rate: int = option(
        16000, "Sample rate the model works at (clips are resampled)", min=1000
    )
    clip_seconds: float = option(
        1.0, "Clip length: longer clips are cropped around the speech, shorter ones padded", min=0.1
    )
    # Features (inside the model).
    mel_bins: int = option(40, "Log-mel frequency bands", min=4)
    window_ms: float = option(25.0, "Spectrogram frame length in milliseconds", min=1.0)
    hop_ms: float = option(10.0, "Spectrogram frame step in milliseconds", min=1.0)
    max_frequency: float = option(
        0.0,
        "Highest mel frequency in Hz (0: half the lowest sample rate of the training "
        "recordings, as no sound lies above it; bands beyond it hold only resampling residue)",
        min=0.0,
    )
    pre_emphasis: float = option(
        0.97,
        "High-pass x[n] - a*x[n-1] before the spectrogram (removes DC offsets; 0: off)",
        min=0.0,
        max=1.0,
    )
    dynamic_range_db: float = option(
        0.0,
        "Floor each clip's mel energies this many dB below its loudest (0: a fixed floor)",
        min=0.0,
    )
    cepstral_coefficients: int = option(
        20,
        "Use this many MFCCs instead of the log-mel bands (at most --mel_bins): the low "
        "cepstral coefficients keep the spectral envelope (what was said) and drop the pitch "
        "harmonics (who said it), which generalizes to unseen speakers (0: log-mel bands)",
        min=0,
    )
    utterance_normalization: str = option(
        "mean_var",
        "Per-clip normalization of each mel band over time (removes the microphone and "
        "voice colouring; helps on unseen speakers)",
        choices=UTTERANCE_NORMALIZATIONS,
    )
    ignore_silence: bool = option(
        True,
        "Per-clip normalization skips digitally silent frames (zero padding) and sets them "
        "to the clip mean (log-mel bands or MFCCs; not with --dynamic_range_db, where "
        "silence has no fixed level)",
    )
    # Augmentation (training only).
    augment: bool = option(True, "Augment training clips (shift, speed, noise, SpecAugment)")
    time_shift: float = option(0.1, "Random time shift, up to this many seconds", min=0.0)
    speed_change: float = option(
        0.25, "Random speed (tempo and pitch) change, up to this fraction", min=0.0, max=0.5
    )
    noise_probability: float = option(
        0.8, "Fraction of training clips mixed with background noise", min=0.0, max=1.0
    )
    snr_db: tuple[float, ...] = option(
        (5.0, 30.0), "Signal-to-noise range in dB for mixed-in noise (low,high)"
    )
    time_stretch: float = option(
        0.3,
        "Random tempo change of the features around the clip's middle, up to this fraction "
        "(pitch unchanged; speakers differ in speaking rate more than in pitch)",
        min=0.0,
        max=0.9,
    )
    frequency_warp: float = option(
        0.0,
        "Random stretch of the mel axis, up to this fraction (vocal tract length perturbation)",
        min=0.0,
        max=0.5,
    )
    freq_masks: int = option(2, "SpecAugment: frequency masks per clip", min=0)
    freq_mask_bins: int = option(5, "SpecAugment: widest frequency mask, in mel bands", min=1)
    time_masks: int = option(2, "SpecAugment: time masks per clip", min=0)
    time_mask_frames: int = option(10, "SpecAugment: widest time mask, in frames", min=1)
    # Model.
    streaming: bool = option(
        False,
        "Build a network that can listen to a stream one hop at a time (implies "
        "--no-bidirectional): causal convolutions and a per-clip normalization over the "
        "last --clip_seconds heard; export_lite then also writes a streaming model",
    )
    conv_filters: int = option(32, "Filters of each of the two 3x3 convolution blocks", min=1)
    frame_pooling: int = option(
        2, "Max-pool frames by this factor in the second convolution block (faster RNN)", min=1
    )
    cell: str = default(RecurrentConfig, "cell", "gru")
    num_layers: int = default(RecurrentConfig, "num_layers", 2)
    dropout: float = default(RecurrentConfig, "dropout", 0.1)
    attention_units: int = option(64, "Hidden size of the attention scoring layer", min=1)
    head_units: int = option(64, "Dense layer between attention pooling and softmax", min=1)
    head_dropout: float = option(0.3, "Dropout before the output layer", min=0.0, max=0.95)
    epochs: int = default(BaseConfig, "epochs", 40)
    ema_momentum: float = default(BaseConfig, "ema_momentum", 0.99)
    cosine_decay: bool = option(
        False, "Decay the learning rate along a cosine to 1% over --epochs (else constant)"
    )
    # An unheard voice's validation accuracy can dip for eight epochs early on (FSDD: best at
    # epoch 5-6, above it again at 14): patience 8 ended some runs inside the dip.
    patience: int = default(BaseConfig, "patience", 12)
    refit: str = default(BaseConfig, "refit", "scratch")
    scale_refit_epochs: bool = default(BaseConfig, "scale_refit_epochs", True)
    finetune_epochs: int = default(BaseConfig, "finetune_epochs", 5)

    def __post_init__(self):
        super().__post_init__()
        if self.streaming:
            if self.dynamic_range_db:
                raise ValueError(
                    "--streaming needs --dynamic_range_db 0: a floor below each clip's loudest "
                    "value depends on the whole clip"
                )
            object.__setattr__(self, "bidirectional", False)  # a stream has no future to read
        if len(self.snr_db) != 2 or self.snr_db[0] > self.snr_db[1]:
            raise ValueError(f"--snr_db: give low,high with low <= high, got {self.snr_db}")
        if self.cepstral_coefficients > self.mel_bins:
            raise ValueError(
                f"--cepstral_coefficients {self.cepstral_coefficients} exceeds --mel_bins "
                f"{self.mel_bins}; lower it, or pass 0 to use the log-mel bands"
            )

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def frame_length(self) -> int:
        return int(round(self.window_ms * self.sample_rate / 1000))

    @property
    def frame_step(self) -> int:
        return int(round(self.hop_ms * self.sample_rate / 1000))

    @property
    def hop_samples(self) -> int:
        """Audio per step of the streaming network: one frame after the frame pooling."""
        return self.frame_step * self.frame_pooling

    @property
    def normalization_frames(self) -> int:
        """Time constant of the causal per-clip normalization (`--streaming`), in frames."""
        return max(1, int(round(self.clip_seconds * 1000 / self.hop_ms)))
