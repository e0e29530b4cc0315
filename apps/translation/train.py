"""Train a translation model, score it on the test split with BLEU and export it for serving.

python -m apps.translation.train                          # TFDS wmt14_translate/de-en, en -> de
python -m apps.translation.train --data_dir DIR           # DIR/train.tsv, DIR/test.tsv
"""

import math
import time
from typing import Optional
from typing import Sequence

from apps.translation.config import TranslationConfig
from apps.translation.data import learn_tokenizers
from apps.translation.data import length_report
from apps.translation.data import load_splits
from apps.translation.data import make_dataset
from apps.translation.data import tokenize_pairs
from apps.translation.decoding import Translator
from apps.translation.evaluate import score_test_split
from apps.translation.export import export_model
from apps.translation.model import build_model
from apps.translation.model import compile_model
from shared import io
from shared.cli import command
from shared.cli import parse_config
from shared.plots import plot_history
from shared.training import finish_run
from shared.training import fit
from shared.training import prepare_run
from shared.training import run_summary


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    config = parse_config(TranslationConfig, argv, __doc__, prog="python -m apps.translation.train")
    splits = load_splits(config)
    run = prepare_run(config)

    start = time.perf_counter()
    source_tokenizer, target_tokenizer = learn_tokenizers(splits.datasets["train"], config)
    vocabulary_seconds = time.perf_counter() - start
    for name, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        io.write_text(run.root / f"{name}_vocabulary.txt", "\n".join(tokenizer.vocabulary) + "\n")
    tokenized = {
        split: tokenize_pairs(data, source_tokenizer, target_tokenizer).cache()
        for split, data in splits.datasets.items()
    }
    lengths = length_report(tokenized["train"], config.max_length)
    data = {
        split: make_dataset(pairs, config, training=split == "train")
        for split, pairs in tokenized.items()
    }
    model = build_model(
        config,
        source_vocab_size=source_tokenizer.vocabulary_size,
        target_vocab_size=target_tokenizer.vocabulary_size,
    )
    compile_model(model, config, steps_per_epoch=math.ceil(lengths["kept"] / config.batch_size))
    result = fit(model, data["train"], data["val"], config, num_train_examples=lengths["kept"])
    plot_history(result.history, run.plots / "training_curves.png", result.best_epoch)

    translator = Translator(model, source_tokenizer, target_tokenizer, config.max_output_ratio)
    metrics = score_test_split(translator, splits.datasets["test"], config, run.plots)
    metrics.update(run_summary(result, splits.counts))
    fit_seconds = sum(r["fit_seconds"] for r in result.history)
    metrics["train_target_tokens_per_second"] = round(
        lengths["kept_target_tokens"] * len(result.history) / fit_seconds, 1
    )
    metrics["data"] = {
        **lengths,
        "vocabulary_sizes": {
            "source": source_tokenizer.vocabulary_size,
            "target": target_tokenizer.vocabulary_size,
        },
        "vocabulary_seconds": round(vocabulary_seconds, 2),
    }
    export_dir = export_model(translator, config, run.export)
    metrics["export"] = str(export_dir)
    io.write_json(run.metrics, metrics)
    finish_run(run)
    beam, greedy = metrics["beam"], metrics["greedy"]
    print(
        f"test BLEU {beam['bleu']:.2f} beam (width {config.beam_width}), "
        f"{greedy['bleu']:.2f} greedy, {metrics['baseline_copy']['bleu']:.2f} copying the "
        f"source; chrF {beam['chrf']:.2f}; run directory {run.root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
