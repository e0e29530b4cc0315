"""Keyword recognition. Importing the package registers the layers a saved model holds:
`import apps.speech`, then `keras.saving.load_model(".../checkpoints/best.keras")`."""

from apps.speech import model as _model  # noqa: F401
