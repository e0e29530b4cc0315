"""Review sentiment. Importing `apps.sentiment.model` registers the layers a saved model holds:
`import apps.sentiment.model`, then `keras.saving.load_model(".../checkpoints/best.keras")`.

The package itself imports nothing, so `python -m apps.sentiment.train --help` answers before
TensorFlow loads."""
