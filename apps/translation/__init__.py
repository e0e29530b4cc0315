"""Translation. Importing `apps.translation.model` registers the layers a saved model holds:
`import apps.translation.model`, then `keras.saving.load_model(".../best.keras").generate([...])`.

The package itself imports nothing, so `python -m apps.translation.train --help` answers before
TensorFlow loads."""
