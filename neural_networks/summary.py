"""``NeuralNetwork.summary``: each layer's output shape and trainable parameters."""

from .checks import describe


class Table(str):
    """Text that shows as itself, also as a prompt's or a notebook cell's last value."""

    def __repr__(self):
        return str(self)


def summary_table(model, input_shape=None):
    """The table as a :class:`Table`. ``input_shape`` is one example's shape, e.g. ``(784,)``
    or ``(28, 28, 1)``; by default the first layer's last input."""
    shape = _input_shape(model, input_shape)
    rows, total = [], 0
    for i, layer in enumerate(model.layers):
        if layer.n_in is None:
            raise ValueError(f"NeuralNetwork.summary: layer {i} ({layer.class_name}) has not created "
                             f"its parameters yet; run forward on a batch (or train) first")
        shape = layer.output_shape_for((1, *shape))[1:]
        count = sum(p.size for p in layer.parameters.values())
        total += count
        name = layer.class_name
        if layer.activation is not None:
            name += f" ({type(layer.activation).__name__})"
        rows.append((f"{i}  {name}", "(batch, " + ", ".join(map(str, shape)) + ")", f"{count:,}"))
    rows = [("Layer", "Output shape", "Parameters"), *rows, ("Total trainable parameters", "", f"{total:,}")]
    width = max(len(row[0]) for row in rows)
    lines = [f"{a:<{width}}  {b:<20}  {c:>12}" for a, b, c in rows]
    rule = "-" * len(lines[0])
    return Table("\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]]))


def _input_shape(model, input_shape):
    """One example's shape: ``input_shape`` checked, or what the first layer saw."""
    if input_shape is not None:
        if (not isinstance(input_shape, (tuple, list)) or not input_shape
                or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_shape)):
            raise ValueError(f"NeuralNetwork.summary: input_shape must be the shape of one example, a tuple "
                             f"of positive ints such as (784,) or (28, 28, 1); got {describe(input_shape)}")
        return tuple(input_shape)
    first = model.layers[0]
    if first.cache.get("X") is not None:
        return first.cache["X"].shape[1:]
    if first.input_ndim == 2 and first.n_in is not None:
        return (first.n_in,)
    raise ValueError("NeuralNetwork.summary: the input shape is not known yet; pass input_shape "
                     "(one example's shape) or run forward on a batch first")
