"""What a `tf.data` pipeline holds, read from its graph (shared by the app tests)."""

import tensorflow as tf


def cached_copies(dataset: tf.data.Dataset) -> int:
    """How many `cache()` steps a dataset's pipeline holds."""
    graph = tf.raw_ops.DatasetToGraphV2(input_dataset=dataset._variant_tensor)
    nodes = tf.compat.v1.GraphDef.FromString(graph.numpy()).node
    return sum(node.op.startswith("CacheDataset") for node in nodes)
