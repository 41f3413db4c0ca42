"""The argument checks of ``NeuralNetwork``, kept apart from its math.

Each function raises ``ValueError`` or ``TypeError`` naming the argument (the
index of a ``layer_args`` entry, the dict key) and what was received.
"""

from .activations import SoftMax
from .layers import Layer, initialize_layer
from .optimizers import Optimizer, initialize_optimizer
from .checks import describe

# Layers whose "activation" argument sets what the network outputs.
_LAYERS_WITH_ACTIVATION = ("fully_connected", "conv2d")


def check_layer_args(layer_args):
    """A copy of ``layer_args``: a non-empty list of dicts, each with a "name"."""
    if not isinstance(layer_args, (list, tuple)) or not layer_args:
        raise TypeError(
            f"NeuralNetwork: layer_args must be a non-empty list of dicts; got {describe(layer_args)}"
        )
    checked = []
    for i, args in enumerate(layer_args):
        if isinstance(args, Layer):
            raise TypeError(
                f"NeuralNetwork: layer_args[{i}] must be a dict of initialize_layer arguments, "
                f"not a layer object; got {args!r}"
            )
        if not isinstance(args, dict):
            raise TypeError(f"NeuralNetwork: layer_args[{i}] must be a dict; got {describe(args)}")
        if "name" not in args:
            raise ValueError(f"NeuralNetwork: layer_args[{i}] has no 'name'; got {args}")
        checked.append(dict(args))
    return checked


def build_layer(index, name, rng, kwargs):
    """``initialize_layer(name, seed=rng, **kwargs)``; an unknown argument is
    reported with the index of its ``layer_args`` entry."""
    try:
        return initialize_layer(name, seed=rng, **kwargs)
    except TypeError as error:
        if "unexpected keyword" in str(error):
            raise TypeError(f"NeuralNetwork: layer_args[{index}]: {error}") from None
        raise


def check_output_pairing(loss, layer_args):
    """Cross-entropy compares probabilities: the output layer must end in a softmax."""
    if loss.name != "cross_entropy":
        return
    index = len(layer_args) - 1
    args = layer_args[index]
    if str(args["name"]).lower() not in _LAYERS_WITH_ACTIVATION:
        return
    activation = args.get("activation")
    if isinstance(activation, SoftMax) or (isinstance(activation, str) and activation.lower() == "softmax"):
        return
    shown = "None (linear)" if activation is None else repr(activation)
    raise ValueError(
        f"NeuralNetwork: the cross_entropy loss needs probabilities, but the output layer "
        f"layer_args[{index}] ({args['name']}) has activation {shown}; give it "
        f"activation 'softmax', or use the 'l2' loss"
    )


def check_optimizer_args(optimizer_args):
    """A copy of ``optimizer_args`` (a dict with "name" and "lr"); {} for an Optimizer."""
    if isinstance(optimizer_args, Optimizer):
        return {}
    if not isinstance(optimizer_args, dict):
        raise TypeError(
            f"NeuralNetwork: optimizer_args must be a dict; got {describe(optimizer_args)}"
        )
    for key in ("name", "lr"):
        if key not in optimizer_args:
            raise ValueError(f"NeuralNetwork: optimizer_args needs {key!r}; got {optimizer_args}")
    return dict(optimizer_args)


def make_optimizer(optimizer_args):
    """The optimizer itself, or one built by ``initialize_optimizer(**optimizer_args)``."""
    if isinstance(optimizer_args, Optimizer):
        return optimizer_args
    try:
        return initialize_optimizer(**optimizer_args)
    except TypeError as error:
        raise TypeError(f"NeuralNetwork: optimizer_args: {error}") from None


def check_built(model, method):
    if not model.built:
        raise ValueError(
            f"NeuralNetwork.{method}: the output layer's n_out is not known yet; give "
            f"it in layer_args or call train(dataset) first"
        )


def check_dataset_split(dataset, split, where):
    """``getattr(dataset, split)``, which must exist and not be None."""
    data = getattr(dataset, split, None)
    if data is None:
        raise ValueError(f"{where}: dataset has no {split} split (dataset.{split} is None)")
    return data


def check_mode(mode, where):
    """``mode`` of ``NeuralNetwork.forward``: "train" or "test"."""
    if not isinstance(mode, str) or mode not in ("train", "test"):
        raise ValueError(f"{where}: mode must be 'train' or 'test'; got {describe(mode)}")
    return mode
