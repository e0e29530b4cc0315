"""Keyword recognition. Importing `apps.speech.model` registers the layers a saved model holds:
`import apps.speech.model`, then `keras.saving.load_model(".../checkpoints/best.keras")`.

The package itself imports nothing, so `python -m apps.speech.train --help` answers before
TensorFlow loads."""
