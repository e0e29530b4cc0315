"""Library shared by the apps: recurrent layers, CLI, data helpers, training runner, export."""

import os

# TensorFlow's C++ log lines (INFO to ERROR) are hidden unless the user sets a level.
USER_TF_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
