"""Weather forecasting. Importing the package registers the layers a saved model holds:
`import apps.weather`, then `keras.saving.load_model(".../checkpoints/best.keras")`."""

from apps.weather import model as _model  # noqa: F401
