"""The optimizers and learning-rate schedules a recipe's `[optimizer]` table can name.

Two small name -> builder tables (not registries: they hold Keras' own classes and take no
options beyond the `[optimizer]` keys every recipe has). `OPTIMIZERS` and `SCHEDULES` are the
names recipe validation allows.

Example:

>>> recipe = {"optimizer": {"name": "adam", "learning_rate": 1e-3, "beta_1": 0.7,
...                         "beta_2": 0.8, "weight_decay": 0.0, "schedule": "cosine"}}
>>> optimizer = build_optimizer(recipe, total_steps=100)
>>> type(optimizer).__name__, round(float(optimizer.learning_rate), 6)
('Adam', 0.001)
"""

import keras

from astrokeras.training.one_cycle import OneCycle


def _constant(learning_rate, total_steps):
    return learning_rate


def _one_cycle(learning_rate, total_steps):
    return OneCycle(max_lr=learning_rate, total_steps=total_steps)


def _cosine(learning_rate, total_steps):
    # Ends at 1 % of the rate: the last epochs settle instead of swinging from epoch to epoch,
    # which at a constant rate moved Y1 accuracy by up to 30 points.
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps,
                                                  alpha=0.01)


def _adam(learning_rate, spec):
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=spec["beta_1"],
                                 beta_2=spec["beta_2"], weight_decay=spec["weight_decay"] or None)


def _adamw(learning_rate, spec):
    # AdamW without a decay is Adam; 0.004 is Keras' AdamW default.
    return keras.optimizers.AdamW(learning_rate=learning_rate, beta_1=spec["beta_1"],
                                  beta_2=spec["beta_2"],
                                  weight_decay=spec["weight_decay"] or 0.004)


_SCHEDULES = {"constant": _constant, "one_cycle": _one_cycle, "cosine": _cosine}
_OPTIMIZERS = {"adam": _adam, "adamw": _adamw}

#: The names `[optimizer].schedule` and `[optimizer].name` may take.
SCHEDULES = tuple(_SCHEDULES)
OPTIMIZERS = tuple(_OPTIMIZERS)


def build_optimizer(recipe, total_steps):
    """The Keras optimizer of a validated recipe's `[optimizer]` table.

    Args:
        recipe: a validated recipe.
        total_steps: optimizer steps of the whole training (the schedules' length).

    Returns:
        A `keras.optimizers.Optimizer` whose learning rate follows `[optimizer].schedule`.
    """
    spec = recipe["optimizer"]
    learning_rate = _SCHEDULES[spec["schedule"]](spec["learning_rate"], total_steps)
    return _OPTIMIZERS[spec["name"]](learning_rate, spec)
