"""A course-style neural network library in plain NumPy.

One module per concept: ``activations``, ``layers``, ``losses``, ``weights``,
``optimizers``, ``schedulers``, ``models``, ``datasets``, ``logs`` and ``utils``.
"""

__version__ = "0.1.0"
