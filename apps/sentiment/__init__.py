"""Review sentiment. Importing the package registers the layers a saved model holds:
`import apps.sentiment`, then `keras.saving.load_model(".../checkpoints/best.keras")`."""

from apps.sentiment import model as _model  # noqa: F401
