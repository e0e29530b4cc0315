"""The bag-of-frames baseline: the model's own frame vectors averaged over time, no recurrence.

A softmax regression on the mean frame vector of each clip, trained on the training clips
(validation picks its epoch) and scored on the test clips. What it misses and the recurrent
model gets is what the order of the frames carries.
"""

import keras
import numpy as np
import tensorflow as tf

from apps.video.model import frame_features_model
from shared.metrics import classifier_metrics

MAX_EPOCHS = 300


def mean_frame_vectors(features: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, ...]:
    """`(mean vector [clips, units], labels [clips])` over the frames of each clip."""
    vectors, labels = [], []
    for inputs, label in dataset:
        values = features(inputs, training=False).numpy()
        present = np.arange(values.shape[1])[None, :] < inputs["length"].numpy()[:, None]
        counts = np.maximum(present.sum(1, keepdims=True), 1)
        vectors.append((values * present[..., None]).sum(1) / counts)
        labels.append(label.numpy())
    return np.concatenate(vectors), np.concatenate(labels)


def bag_of_frames(
    model: keras.Model,
    datasets: dict[str, tf.data.Dataset],
    class_names: tuple[str, ...],
    seed: int,
) -> dict:
    """Test metrics of the bag-of-frames baseline (datasets: batched train, val and test)."""
    features = frame_features_model(model)
    train_x, train_y = mean_frame_vectors(features, datasets["train"])
    val_x, val_y = mean_frame_vectors(features, datasets["val"])
    test_x, test_y = mean_frame_vectors(features, datasets["test"])
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    keras.utils.set_random_seed(seed)
    classifier = keras.Sequential(
        [
            keras.Input((train_x.shape[1],)),
            keras.layers.Dense(len(class_names), activation="softmax"),
        ]
    )
    classifier.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    classifier.fit(
        (train_x - mean) / std,
        train_y,
        validation_data=((val_x - mean) / std, val_y),
        epochs=MAX_EPOCHS,
        batch_size=256,
        verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True)],
    )
    probabilities = classifier.predict((test_x - mean) / std, verbose=0)
    metrics = classifier_metrics(test_y, probabilities, train_y, class_names)
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "confusion_matrix": metrics["confusion_matrix"],
    }
