"""Initializer copies for layers that build several sublayers from one argument."""

import keras


def fresh_initializer(initializer, offset):
    """A new copy of `initializer` for one sublayer.

    A Keras 3 random initializer instance draws the same values on every call (its seed is
    fixed when it is made), so sharing one instance would give same-shaped sublayers identical
    kernels. Each sublayer gets its own copy; a user-given integer seed is shifted by `offset`
    so that seeded layers stay reproducible without repeating kernels.

    Args:
        initializer: an initializer instance, name or config.
        offset: an int distinct for each sublayer of the layer.

    Returns:
        A new initializer instance.
    """
    config = keras.initializers.serialize(keras.initializers.get(initializer))
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get("seed"), int):
        inner["seed"] = inner["seed"] + offset
    return keras.initializers.deserialize(config)
