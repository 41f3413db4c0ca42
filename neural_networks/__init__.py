"""A course-style neural network library in plain NumPy, one module per concept.

The course's parts: ``activations``, ``layers``, ``losses``, ``weights``,
``optimizers``, ``schedulers`` and ``models`` (the network, its ``forward`` and
``backward``); ``fast_layers`` (tuned Conv2D and Pool2D kernels, opt-in);
``datasets`` (batches) and ``loaders`` (the files); ``logs``, ``training``,
``checkpoints``, ``predictions`` and ``summary`` (around a run); ``cli`` (the
training scripts); ``checks`` (argument checks) and ``utils``.
"""

__version__ = "0.1.0"
