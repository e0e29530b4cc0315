"""Video classification. Importing `apps.video.model` registers the layers a saved model holds:
`import apps.video.model`, then `keras.saving.load_model(".../checkpoints/best.keras")`.

The package itself imports nothing, so `python -m apps.video.train --help` answers before
TensorFlow loads."""
