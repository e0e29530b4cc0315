"""Weather forecasting. Importing `apps.weather.model` registers the layers a saved model holds:
`import apps.weather.model`, then `keras.saving.load_model(".../checkpoints/best.keras")`.

The package itself imports nothing, so `python -m apps.weather.train --help` answers before
TensorFlow loads."""
