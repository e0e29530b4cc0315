"""Library shared by the apps: recurrent layers, CLI, data helpers, training runner, export."""

import os

# Quieter TensorFlow start-up (C++ INFO/WARNING logs); an explicit user setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
