"""Benchmark: translation training tokens/second and compiled vs Python-loop decoding.

On `$RNN_SUITE_DATA/translation` (Multi30k en-de) it measures in one run:
  1. training target tokens/second of the default model (bucketed batches of 64 pairs);
  2. sentences/second at batch 64 of the compiled decoders (`tf.while_loop` beam search of
     width 5, and greedy) against a Python-loop greedy decoder that calls the model (itself
     compiled with `tf.function`) once per output token on the whole prefix, as simple
     decoders do (and, for reference, the same loop calling the model eagerly). The issue's
     target is at least 10x for the compiled decoder.

    python benchmarks/translation_decoding.py [--run_dir RUN] [--data_dir DIR] [--steps 30]
With `--run_dir` (a finished translation run) the trained model and vocabularies are used;
otherwise a freshly initialized default model (decoding then runs to the length limit, which
is the slowest case for both decoders).
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dev_data import data_dir

from apps.translation.config import TranslationConfig
from apps.translation.data import source_ids
from apps.translation.task import TranslationTask
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import START_ID
from shared.run_dir import RunDir

DEFAULT_DATA = data_dir("translation")
BATCH = 64


def python_greedy(call, source: np.ndarray, max_tokens: int) -> np.ndarray:
    """Greedy decoding in Python: one (compiled) model call on the whole prefix per token."""
    outputs = np.full((len(source), 1), START_ID, dtype="int32")
    finished = np.zeros(len(source), bool)
    for _ in range(max_tokens):
        logits = call(source, outputs)
        token = np.argmax(np.asarray(logits[:, -1]), axis=-1).astype("int32")
        token[finished] = 0
        outputs = np.concatenate([outputs, token[:, None]], axis=1)
        finished |= token == END_ID
        if finished.all():
            break
    return outputs[:, 1:]


def sentences_per_second(fn, batches) -> float:
    fn(batches[0])  # warm-up (tracing)
    start = time.perf_counter()
    for batch in batches:
        fn(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_dir", default=str(DEFAULT_DATA))
    parser.add_argument("--run_dir", help="a finished translation run to decode with")
    parser.add_argument("--steps", type=int, default=30, help="training steps measured")
    parser.add_argument("--batches", type=int, default=3, help="decoding batches of 64")
    args = parser.parse_args()
    task = TranslationTask()
    config = TranslationConfig(data_dir=args.data_dir, batch_size=BATCH)
    splits, config = task.load_data(config)
    if args.run_dir:
        run = RunDir(Path(args.run_dir))
        model = keras.models.load_model(run.best_model)  # its tokenizers inside
        tokenizers = model.preprocessor
    else:
        tokenizers = task.fit_preprocessing(config, splits)
        model = task.build_model(config, tokenizers, steps_per_epoch=1)
    source_tokenizer = tokenizers.source

    # 1. Training throughput (a copy of the model, so decoding uses the weights as given).
    trainee = task.build_model(config, tokenizers, steps_per_epoch=1)
    iterator = iter(task.make_datasets(config, splits, tokenizers).train.repeat())
    trainee.train_on_batch(*next(iterator))
    tokens, start = 0, time.perf_counter()
    for _ in range(args.steps):
        inputs, labels = next(iterator)
        trainee.train_on_batch(inputs, labels)
        tokens += int(np.count_nonzero(labels))
    train_rate = tokens / (time.perf_counter() - start)
    print(f"training: {train_rate:.0f} target tokens/s ({args.steps} steps of {BATCH} pairs)")

    # 2. Decoding speed on test sentences.
    texts = [s.decode() for s, _ in splits.datasets["test"].as_numpy_iterator()]
    batches = [texts[i * BATCH : (i + 1) * BATCH] for i in range(args.batches)]
    translator = model.translator
    spec = [tf.TensorSpec([None], tf.string)]
    beam = tf.function(
        lambda t: translator.translate(t, config.beam_width, 0.6), input_signature=spec
    )
    greedy = tf.function(lambda t: translator.translate(t, 1), input_signature=spec)
    encode = tf.function(lambda t: source_ids(source_tokenizer, t).to_tensor())
    limits = translator.output_limits
    ids = tf.TensorSpec([None, None], tf.int32)
    call = tf.function(
        lambda source, target_in: model({"source": source, "target_in": target_in}),
        input_signature=[ids, ids],
    )

    def eager_call(source, target_in):
        return model({"source": source, "target_in": target_in}, training=False)

    def loop(batch, call=call):
        source = encode(tf.constant(batch))
        return python_greedy(call, source.numpy(), int(tf.reduce_max(limits(source))))

    rates = {
        "python_loop_greedy": sentences_per_second(loop, batches),
        "python_loop_greedy_eager": sentences_per_second(
            lambda b: loop(b, eager_call), batches[:1]
        ),
        "compiled_greedy": sentences_per_second(lambda b: greedy(tf.constant(b)), batches),
        "compiled_beam": sentences_per_second(lambda b: beam(tf.constant(b)), batches),
    }
    base = rates["python_loop_greedy"]
    for name, rate in rates.items():
        print(
            f"decoding {name:>20}: {rate:8.1f} sentences/s  ({rate / base:5.1f}x the Python loop)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
