"""netspec: a small language for GoogLeNet / Inception-family networks.

The front end (this package) parses `.ns` specs, lowers them to an immutable IR
and analyses them statically. It never imports TensorFlow or Keras; the
`compiler` package turns the IR into Keras models and trains them.
"""

__version__ = "0.1.0"
