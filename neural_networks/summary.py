"""``NeuralNetwork.summary``: a table of the layers and their parameter counts.

The handout asks for the number of trainable parameters; the table lists each
layer with the shape of its output and how many numbers it learns, then the
total. The scripts print it before the first epoch.
"""

from .checks import describe


def summary_table(model, input_shape=None):
    """The table as text (see ``NeuralNetwork.summary``)."""
    shape = _input_shape(model, input_shape)
    rows, total = [], 0
    for i, layer in enumerate(model.layers):
        if layer.n_in is None:
            raise ValueError(
                f"NeuralNetwork.summary: layer {i} ({type(layer).__name__}) has not created "
                f"its parameters yet; run forward on a batch (or train) first"
            )
        shape = layer.output_shape_for((1, *shape))[1:]
        count = sum(p.size for p in layer.parameters.values())
        total += count
        name = type(layer).__name__
        if layer.activation is not None:
            name += f" ({type(layer.activation).__name__})"
        rows.append((f"{i}  {name}", "(batch, " + ", ".join(str(n) for n in shape) + ")", f"{count:,}"))
    width = max(len(row[0]) for row in rows + [("Total trainable parameters",)])
    header = f"{'Layer':<{width}}  {'Output shape':<20}  {'Parameters':>12}"
    rule = "-" * len(header)
    lines = [header, rule]
    lines += [f"{a:<{width}}  {b:<20}  {c:>12}" for a, b, c in rows]
    lines += [rule, f"{'Total trainable parameters':<{width}}  {'':<20}  {f'{total:,}':>12}"]
    return "\n".join(lines)


def _input_shape(model, input_shape):
    """The shape of one example: ``input_shape`` checked, or what the first
    layer has seen."""
    where = "NeuralNetwork.summary"
    if input_shape is not None:
        if (not isinstance(input_shape, (tuple, list)) or not input_shape
                or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_shape)):
            raise ValueError(
                f"{where}: input_shape must be the shape of one example, a tuple of positive "
                f"ints such as (784,) or (28, 28, 1); got {describe(input_shape)}"
            )
        return tuple(input_shape)
    first = model.layers[0]
    X = first.cache.get("X")
    if X is not None:
        return X.shape[1:]
    if first.input_ndim == 2 and first.n_in is not None:
        return (first.n_in,)
    raise ValueError(
        f"{where}: the input shape is not known yet; pass input_shape (one example's shape) "
        f"or run forward on a batch first"
    )
