"""Keras backend and training runner for netspec: the only code that imports TensorFlow."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) buries netspec's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
