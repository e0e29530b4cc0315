"""Image captioning. Importing `apps.captioning.model` registers the layers a saved model holds:
`import apps.captioning.model`, then `keras.saving.load_model(".../best.keras").generate([...])`.

The package itself imports nothing, so `python -m apps.captioning.train --help` answers before
TensorFlow loads."""
