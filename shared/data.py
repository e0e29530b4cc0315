"""`tf.data` steps shared by the apps, written as small functions or `dataset.apply` factories."""

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Optional
from typing import Sequence

import numpy as np
import tensorflow as tf

from shared.errors import UserError

AUTOTUNE = tf.data.AUTOTUNE
DRAW_BATCH = 4096  # elements whose validation draws are made at once


def with_options(dataset: tf.data.Dataset, deterministic: bool = True) -> tf.data.Dataset:
    """Deterministic element order (seeded runs repeat) with tf.data's default optimizations."""
    options = tf.data.Options()
    options.deterministic = deterministic
    options.experimental_optimization.map_parallelization = True
    return dataset.with_options(options)


def split_validation(
    dataset: tf.data.Dataset, fraction: float, seed: int
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Split off a seeded random `fraction` of `dataset` as validation, without loading it.

    Each element's side is decided by a stateless draw keyed on (seed, index), so the split is
    the same every time the datasets are iterated and in every run with the same seed.
    """

    def draws(indices):
        return tf.random.stateless_uniform([], seed=tf.stack([tf.cast(seed, tf.int64), indices]))

    if fixed_shapes(dataset):
        # Elements of fixed shape: the same draws, vectorized over batches (100x faster).
        def side(validation: bool):
            def pick(batch, elements):
                size = tf.shape(tf.nest.flatten(elements)[0], tf.int64)[0]
                indices = batch * DRAW_BATCH + tf.range(size)  # every batch but the last is full
                held = tf.vectorized_map(draws, indices) < fraction
                keep = held if validation else tf.logical_not(held)
                return tf.nest.map_structure(lambda x: tf.boolean_mask(x, keep), elements)

            batches = dataset.batch(DRAW_BATCH).enumerate()
            return batches.map(pick, num_parallel_calls=AUTOTUNE).unbatch()

        return side(False), side(True)
    keyed = dataset.enumerate()
    validation = keyed.filter(lambda index, element: draws(index) < fraction)
    train = keyed.filter(lambda index, element: draws(index) >= fraction)
    drop_index = lambda index, element: element  # noqa: E731
    return train.map(drop_index), validation.map(drop_index)


def fixed_shapes(dataset: tf.data.Dataset) -> bool:
    """Whether every element has the same fully known shapes (so elements can be batched)."""
    shapes = [spec.shape for spec in tf.nest.flatten(dataset.element_spec)]
    return bool(shapes) and all(shape.is_fully_defined() for shape in shapes)


def hold_out(files: list, fraction: float, seed: int, fold: int = 0) -> tuple[list, list]:
    """A seeded random `fraction` of `files` for validation: (train files, validation files).

    `fold` k validates on the k-th such share of the same permutation (k-fold selection), so
    the folds' validation sets are disjoint.
    """
    order = np.random.default_rng(seed).permutation(len(files))
    cut = int(round(len(files) * fraction))
    if cut * (fold + 1) > len(files):
        raise UserError(
            f"--validation_fold {fold}: {len(files)} files hold only "
            f"{len(files) // max(cut, 1)} disjoint validation share(s) of {fraction:.0%}"
        )
    held = set(order[cut * fold : cut * (fold + 1)].tolist())
    return (
        [f for i, f in enumerate(files) if i not in held],
        [f for i, f in enumerate(files) if i in held],
    )


def file_groups(names: Sequence[str], pattern: str) -> list[str]:
    """The group of each file name: the first capture group of `pattern` (searched in the
    name); a name it does not match is a group of its own."""
    try:
        regex = re.compile(pattern)
    except re.error as error:
        reason = f"not a regular expression ({error})"
        raise UserError(f"--group_pattern {pattern!r}: {reason}") from None
    if regex.groups < 1:
        raise UserError(f"--group_pattern {pattern!r}: needs a capture group, e.g. ^(\\d+)_")
    groups = []
    for name in names:
        match = regex.search(name)
        groups.append(match.group(1) if match else f"<{name}>")
    return groups


def hold_out_groups(
    items: list, groups: Sequence[str], fraction: float, seed: int, fold: int = 0
) -> tuple[list, list]:
    """Whole groups, in seeded random order, until about `fraction` of `items` validate.

    No group is on both sides; at least one group validates and at least one trains. `fold` k
    validates on the k-th such set of groups along the same order (k-fold selection: the
    folds' validation groups are disjoint; fold 0 is the default split).
    """
    names = sorted(set(groups))
    if len(names) < 2:
        raise UserError(
            f"validation by group needs at least two groups in train/, found {len(names)} "
            "(check --group_pattern, or add a val/ folder)"
        )
    folds = group_folds(names, Counter(groups), fraction * len(items), seed)
    if fold >= len(folds):
        raise UserError(
            f"--validation_fold {fold}: the {len(names)} groups of train/ make only "
            f"{len(folds)} disjoint validation fold(s) of about {fraction:.0%} (folds 0 to "
            f"{len(folds) - 1}; change --validation_split or --selection_folds)"
        )
    held = folds[fold]
    return (
        [item for item, group in zip(items, groups) if group not in held],
        [item for item, group in zip(items, groups) if group in held],
    )


def group_folds(names: list[str], sizes: Counter, target: float, seed: int) -> list[set[str]]:
    """The validation folds of `hold_out_groups`: along a seeded order of `names`, each fold
    takes whole groups until it holds about `target` items; every fold leaves a group to train,
    and a last fold that would hold less than half of `target` is dropped."""
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    folds = []
    while order:
        held, count = set(), 0
        for name in order[:-1] if not folds else order:
            if held and count + sizes[name] / 2 > target:
                break
            held.add(name)
            count += sizes[name]
        if folds and count < target / 2:
            break
        folds.append(held)
        order = [name for name in order if name not in held]
    return folds


def label_split_folders(
    root: Path, class_names: Sequence[str], layout: str, skip: Sequence[str] = ()
) -> tuple[list[str], tuple[str, ...]]:
    """The split folders of `<root>/<split>/<label>/...` (train and test required, val
    optional) and the class names: `class_names`, or else the label folders of train/.

    `UserError` names what is wrong: no root, a missing split, fewer than two classes, a label
    folder not among the classes. `layout` is shown in those messages; folders named in `skip`
    (and hidden ones) are not labels.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"--data_dir {root}: no such folder")
    names = [s for s in ("train", "val", "test") if (root / s).is_dir()]
    for required in ("train", "test"):
        if required not in names:
            raise UserError(f"--data_dir {root}: missing the {required}/ folder (layout: {layout})")

    def labels_in(folder: Path) -> tuple[str, ...]:
        return tuple(
            sorted(
                p.name
                for p in folder.iterdir()
                if p.is_dir() and p.name not in skip and not p.name.startswith(".")
            )
        )

    labels = {split: labels_in(root / split) for split in names}
    class_names = tuple(class_names or labels["train"])
    if len(class_names) < 2:
        raise UserError(
            f"{root / 'train'}: found {len(class_names)} label folder(s) {list(class_names)}; "
            f"need at least 2 (layout: {layout})"
        )
    for split in names:
        unknown = sorted(set(labels[split]) - set(class_names))
        if unknown:
            raise UserError(f"{root / split}: label folders {unknown} are not among {class_names}")
    return names, class_names


def validation_by_group(
    items: list,
    names: Sequence[str],
    *,
    pattern: str,
    conventions: dict[str, str],
    fraction: float,
    seed: int,
    noun: str,
    fold: int = 0,
) -> tuple[list, list, dict]:
    """Train and validation `items` (named `names`) with no group on both sides, and a report.

    `pattern` (`--group_pattern`) names each item's group; without one, the one of
    `conventions` (name -> regex) that matches the most names, if it matches at least half of
    them. Names it does not match (a stray file) have no known group: they train, never
    validate, and are counted and named. When no convention fits, a random split by item is
    made, which measures accuracy on groups training has seen, and says so.
    `noun` is what a group is (a speaker, a video group) in the printed summary; `fold` picks
    one of the disjoint validation sets (`--validation_fold`, see `hold_out_groups`).
    """
    source = "--group_pattern"
    if not pattern:
        matches = {
            convention: sum(bool(re.search(candidate, name)) for name in names)
            for convention, candidate in conventions.items()
        }
        best = max(matches, key=matches.get, default=None)
        if best is not None and matches[best] * 2 >= len(names) > 0:
            pattern, source = conventions[best], f"{best} file names"
    if not pattern:
        print(
            f"Validation: a random {fraction:.0%} of train/{_fold_note(fold)} (file names do "
            f"not name the {noun}; pass --group_pattern to hold out whole groups)"
        )
        train, val = hold_out(items, fraction, seed, fold)
        return train, val, {"grouping": "random files", **({"fold": fold} if fold else {})}
    groups = file_groups(names, pattern)
    named = [i for i, name in enumerate(names) if not groups[i].startswith("<")]
    stray = [i for i, name in enumerate(names) if groups[i].startswith("<")]
    kept = [(items[i], groups[i]) for i in named]
    train, val = hold_out_groups(kept, [groups[i] for i in named], fraction, seed, fold)
    held = sorted({group for _, group in val})
    shown = ", ".join(held[:8]) + (", ..." if len(held) > 8 else "")
    print(
        f"Validation: {len(val)} files of {len(held)} {noun}(s) not in training ({shown}), "
        f"grouped by {source}{_fold_note(fold)}"
    )
    report = {"grouping": source, "pattern": pattern, "validation_groups": held}
    if fold:
        report["fold"] = fold
    if stray:
        print(
            f"warning: {len(stray)} file(s) in train/ not named like the others "
            f"({names[stray[0]]}{', ...' if len(stray) > 1 else ''}; pattern {pattern!r}): "
            f"their {noun} is unknown, so they train and never validate",
            file=sys.stderr,
        )
        report["ungrouped_files"] = {"count": len(stray), "first": names[stray[0]]}
    train_items = [item for item, _ in train] + [items[i] for i in stray]
    return train_items, [item for item, _ in val], report


def _fold_note(fold: int) -> str:
    return f", fold {fold}" if fold else ""


def refuse_fold(config: Any, source: str) -> None:
    """`UserError` when `--validation_fold` asks for another validation set than `source`'s
    own (a val/ folder, a TFDS validation split): folds are held out of train/ only."""
    fold = getattr(config, "validation_fold", 0)
    if fold:
        raise UserError(
            f"--validation_fold {fold} (--selection_folds): {source} has its own validation "
            "split; folds are held out of train/ only (use --data_dir without a val/ folder)"
        )


def batch_sequences(
    batch_size: int,
    *,
    length_fn: Callable[..., tf.Tensor],
    max_length: int,
    bucketing: bool = True,
    shuffle_seed: Optional[int] = None,
    padded_shapes: Optional[Any] = None,
    chunk_batches: int = 64,
) -> Callable[[tf.data.Dataset], tf.data.Dataset]:
    """Batch variable-length examples by length, or pad every batch to `max_length`.

    With `bucketing`, each chunk of `chunk_batches * batch_size` consecutive examples is sorted
    by `length_fn` and cut into batches, so a batch holds examples of almost the same length and
    is padded only to its own longest one. Unlike `bucket_by_sequence_length` with fixed
    boundaries, no bucket is left with a partial batch: only a chunk's last batch can be short,
    and padding is near zero. With a `shuffle_seed` (training) the batches are then shuffled, so
    lengths do not arrive in order. Every example is kept exactly once.
    Without `bucketing`, batches are padded to `max_length` (`padded_shapes` may say so
    explicitly for nested elements). Use as `dataset.apply(batch_sequences(...))`.
    """

    def sort_chunk(element, lengths):
        order = tf.argsort(lengths, stable=True)
        return tf.nest.map_structure(lambda t: tf.gather(t, order), element)

    def apply(dataset: tf.data.Dataset) -> tf.data.Dataset:
        if not bucketing:
            shapes = padded_shapes or tf.nest.map_structure(
                lambda spec: [max_length if d is None else d for d in spec.shape],
                dataset.element_spec,
            )
            return dataset.padded_batch(batch_size, padded_shapes=shapes)
        batches = (
            dataset.map(lambda *element: (element, length_fn(*element)))
            .ragged_batch(batch_size * chunk_batches)
            .map(sort_chunk, num_parallel_calls=AUTOTUNE)
            .unbatch()
            # Rows of a ragged batch unbatch as ragged specs; identity makes them dense again.
            .map(lambda *element: _single(tf.nest.map_structure(tf.identity, element)))
            .padded_batch(batch_size)
        )
        if shuffle_seed is not None:
            batches = batches.shuffle(chunk_batches, seed=shuffle_seed)
        return batches

    return apply


def _single(element: tuple) -> Any:
    """Undo the tuple that `map(lambda *element: ...)` wraps around one-component elements."""
    return element[0] if len(element) == 1 else element


def labels_of(dataset: tf.data.Dataset) -> np.ndarray:
    """The integer labels of a `(features, label)` dataset, batched or not, in order."""
    return np.concatenate([np.reshape(y, [-1]) for _, y in dataset.as_numpy_iterator()])


def count(dataset: tf.data.Dataset) -> int:
    """Number of elements, from the cardinality when known, else by iterating once."""
    cardinality = int(dataset.cardinality())
    if cardinality >= 0:
        return cardinality
    if fixed_shapes(dataset):  # counted in batches
        first = lambda *batch: tf.nest.flatten(batch)[0]  # noqa: E731
        batches = dataset.batch(DRAW_BATCH).map(lambda *b: tf.shape(first(*b), tf.int64)[0])
        return int(batches.reduce(tf.constant(0, tf.int64), lambda n, size: n + size))
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))


def load_tfds_dataset(name: str, **kwargs: Any) -> Any:
    """`tfds.load(name, **kwargs)`; a download failure or an unknown name becomes a `UserError`.

    Only those two causes are caught (and named, with the URL or the data set): any other
    error is a bug and keeps its traceback.
    """
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, **kwargs)
    except tfds.core.registered.DatasetNotFoundError:
        raise UserError(
            f"TFDS has no data set {name!r} (see tfds.list_builders()); check --tfds_name"
        ) from None
    except (OSError, tfds.core.download.DownloadError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(
            f"cannot download TFDS data set {name!r} ({reason[:300]}); check the network, "
            f"or pass --data_dir with your own data"
        ) from None
