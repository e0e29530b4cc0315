"""Image captioning. Importing the package registers the layers a saved model holds:
`import apps.captioning`, then `keras.saving.load_model(".../best.keras").generate([...])`."""

from apps.captioning import model as _model  # noqa: F401
