import numpy as np
import pytest
import tensorflow as tf

from shared.data import batch_sequences
from shared.data import count
from shared.data import hold_out
from shared.data import hold_out_groups
from shared.data import split_validation
from shared.errors import UserError


def variable_length_dataset(num_examples=200, max_length=60, seed=0):
    """Element i is ({"ids": [i+1] * length_i}, i): every example is identifiable."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length + 1, size=num_examples)
    ragged = tf.ragged.constant([[i + 1] * int(n) for i, n in enumerate(lengths)])
    data = tf.data.Dataset.from_tensor_slices((ragged, np.arange(num_examples)))
    return data.map(lambda ids, i: ({"ids": ids}, i)), lengths


@pytest.mark.parametrize("bucketing", [True, False])
def test_batching_keeps_every_example_exactly_once(bucketing):
    data, lengths = variable_length_dataset()
    batched = data.apply(
        batch_sequences(
            16, length_fn=lambda x, i: tf.shape(x["ids"])[0], max_length=60, bucketing=bucketing
        )
    )
    seen = []
    for features, index in batched.as_numpy_iterator():
        assert len(index) <= 16
        for row, i in zip(features["ids"], index):
            # The row holds the example's own tokens followed only by padding.
            assert list(row[: lengths[i]]) == [i + 1] * lengths[i]
            assert not row[lengths[i] :].any()
        seen.extend(index.tolist())
        if bucketing:
            assert features["ids"].shape[1] == lengths[index].max()  # padded to its own longest
        else:
            assert features["ids"].shape[1] == 60
    assert sorted(seen) == list(range(len(lengths)))


def test_bucketing_pads_less_than_fixed_length():
    data, lengths = variable_length_dataset(num_examples=400, max_length=200)
    length_fn = lambda x, i: tf.shape(x["ids"])[0]  # noqa: E731

    def padded_cells(bucketing):
        batched = data.apply(
            batch_sequences(16, length_fn=length_fn, max_length=200, bucketing=bucketing)
        )
        return sum(x["ids"].size for x, _ in batched.as_numpy_iterator())

    real_cells = int(lengths.sum())
    assert padded_cells(True) < 1.05 * real_cells < 0.6 * padded_cells(False)


def test_training_batches_are_shuffled_but_complete():
    data, lengths = variable_length_dataset(num_examples=300)
    batching = batch_sequences(
        8,
        length_fn=lambda x, i: tf.shape(x["ids"])[0],
        max_length=60,
        shuffle_seed=1,
        chunk_batches=10,
    )
    batches = [index.tolist() for _, index in data.apply(batching).as_numpy_iterator()]
    assert sorted(i for batch in batches for i in batch) == list(range(300))
    batch_lengths = [max(lengths[batch]) for batch in batches]
    assert batch_lengths != sorted(batch_lengths)  # not in length order
    assert sum(len(batch) < 8 for batch in batches) <= 300 // (8 * 10) + 1


def test_single_component_elements_keep_their_structure():
    data = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[1, 2, 3], [4], [5, 6]]))
    batched = data.apply(batch_sequences(2, length_fn=tf.size, max_length=5))
    assert [b.tolist() for b in batched.as_numpy_iterator()] == [[[4, 0], [5, 6]], [[1, 2, 3]]]


def test_split_validation_is_a_seeded_partition():
    data = tf.data.Dataset.range(1000)
    train, val = split_validation(data, 0.1, seed=3)
    train_items, val_items = list(train.as_numpy_iterator()), list(val.as_numpy_iterator())
    assert sorted(train_items + val_items) == list(range(1000))
    assert 60 < len(val_items) < 140
    again_train, again_val = split_validation(data, 0.1, seed=3)
    assert list(again_val.as_numpy_iterator()) == val_items  # same seed, same split
    assert list(val.as_numpy_iterator()) == val_items  # stable across iterations
    _, other = split_validation(data, 0.1, seed=4)
    assert list(other.as_numpy_iterator()) != val_items


def test_count_with_and_without_known_cardinality():
    assert count(tf.data.Dataset.range(7)) == 7
    assert count(tf.data.Dataset.range(10).filter(lambda x: x % 2 == 0)) == 5


def test_tfds_download_failures_and_unknown_names_are_one_line_errors(monkeypatch):
    import requests
    import tensorflow_datasets as tfds

    from shared.data import load_tfds_dataset
    from shared.errors import UserError

    def offline(name, **kwargs):
        raise requests.exceptions.ConnectionError("Max retries exceeded with url: /aclImdb.tar.gz")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(UserError, match="cannot download TFDS data set 'imdb_reviews'.*aclImdb"):
        load_tfds_dataset("imdb_reviews")

    def bug(name, **kwargs):
        raise KeyError("a bug, not the network")

    monkeypatch.setattr(tfds, "load", bug)
    with pytest.raises(KeyError):  # keeps its traceback: never blamed on the network
        load_tfds_dataset("imdb_reviews")
    monkeypatch.undo()
    with pytest.raises(UserError, match="TFDS has no data set 'imdb_reviewz'"):
        load_tfds_dataset("imdb_reviewz")


def test_split_validation_draws_the_same_sides_for_fixed_and_variable_shapes():
    """Fixed-shape elements take the vectorized path, others one draw per element: the same
    elements validate either way (so every app splits as before)."""
    numbers = tf.data.Dataset.range(10_000)
    vectors = numbers.map(lambda i: tf.fill([1 + i % 3], i))  # shapes vary: per element
    for fixed, variable in zip(
        split_validation(numbers, 0.2, 7), split_validation(vectors, 0.2, 7)
    ):
        fixed_ids = [int(v) for v in fixed.as_numpy_iterator()]
        assert fixed_ids == [int(v[0]) for v in variable.as_numpy_iterator()]
        assert count(fixed) == len(fixed_ids)


def test_group_folds_are_disjoint_whole_groups_and_fold_0_is_the_default_split():
    sizes = {"a": 30, "b": 10, "c": 25, "d": 5, "e": 40, "f": 20, "g": 15}
    groups = [name for name, size in sizes.items() for _ in range(size)]
    items = list(range(len(groups)))
    folds = []
    for fold in range(4):
        train, val = hold_out_groups(items, groups, 0.2, seed=7, fold=fold)
        held = {groups[i] for i in val}
        assert sorted(train + val) == items and not held & {groups[i] for i in train}
        folds.append(held)
    assert all(not a & b for i, a in enumerate(folds) for b in folds[i + 1 :])
    assert hold_out_groups(items, groups, 0.2, seed=7) == hold_out_groups(
        items, groups, 0.2, seed=7, fold=0
    )
    # Three speakers at 10%: one speaker per fold, each validating once.
    speakers = ["lucas"] * 50 + ["george"] * 50 + ["jackson"] * 50
    held = [
        {speakers[i] for i in hold_out_groups(list(range(150)), speakers, 0.1, 2, k)[1]}
        for k in range(3)
    ]
    assert sorted(map(sorted, held)) == [["george"], ["jackson"], ["lucas"]]
    with pytest.raises(UserError, match="--validation_fold 3: the 3 groups .* only 3"):
        hold_out_groups(list(range(150)), speakers, 0.1, 2, fold=3)


def test_random_validation_folds_are_disjoint_shares_of_one_permutation():
    files = [f"f{i}" for i in range(50)]
    vals = [set(hold_out(files, 0.2, seed=3, fold=k)[1]) for k in range(5)]
    assert all(len(v) == 10 for v in vals) and set().union(*vals) == set(files)
    assert vals[0] == set(hold_out(files, 0.2, seed=3)[1])
    with pytest.raises(UserError, match="only 5 disjoint validation share"):
        hold_out(files, 0.2, seed=3, fold=5)
