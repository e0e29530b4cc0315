"""Video classification. Importing the package registers the layers a saved model holds:
`import apps.video`, then `keras.saving.load_model(".../checkpoints/best.keras")`."""

from apps.video import model as _model  # noqa: F401
