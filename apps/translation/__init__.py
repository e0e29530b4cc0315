"""Translation. Importing the package registers the layers a saved model holds:
`import apps.translation`, then `keras.saving.load_model(".../best.keras").generate([...])`."""

from apps.translation import model as _model  # noqa: F401
