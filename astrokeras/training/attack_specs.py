"""In-graph attacks for adversarial training: FGSM and PGD specifications.

`astrokeras.attacks.fgsm` / `pgd` attack NumPy batches for evaluation; adversarial training
needs the same steps on tensors inside the compiled `train_step`. These small serializable
specs hold the attack's parameters and run it on a tensor batch with `tf.GradientTape`.
"""

import keras
import tensorflow as tf

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.perturbations import project_to_ball, step_direction

NORMS = ("inf", 2)


def _check_norm(norm):
    if norm in ("inf", "linf", float("inf")):
        return "inf"
    if norm in (2, "2", "l2"):
        return 2
    raise InvalidArgumentError("`norm` of the attack is unknown.", norm, NORMS)


def _check_clip(clip):
    if clip is None:
        return None
    try:
        low, high = clip
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`clip` must be a (low, high) pair of numbers.", clip,
                                   "(low, high) with low < high") from None
    if not low < high:
        raise InvalidArgumentError("`clip` must have low < high.", clip, "(low, high), low < high")
    return (low, high)


@keras.saving.register_keras_serializable(package="astrokeras")
class PGD:
    """Projected gradient descent (Madry et al. 2018), run on a tensor batch in the graph.

    Each of `steps` iterations steps by `step` along sign(g) (L-inf) or g/||g||_2 (L2), clips to
    `clip` and projects onto the eps-ball, as `astrokeras.attacks.pgd` does.

    Args:
        eps: perturbation budget, > 0.
        step: step size, 0 < step <= eps.
        steps: number of iterations.
        norm: "inf" or 2.
        random_start: start from a uniform draw in the eps-ball.
        clip: None or (low, high) valid pixel range.
        seed: seed of the random start.

    Example:

    >>> attack = PGD(eps=0.02, step=0.005, steps=10)
    >>> attack.get_config()["steps"]
    10
    """

    def __init__(self, eps, step, steps, norm="inf", random_start=True, clip=None, seed=None):
        self.eps = float(eps)
        self.step = float(step)
        if not self.eps > 0:
            raise InvalidArgumentError("`eps` of the attack must be positive.", eps, "> 0")
        if not 0 < self.step <= self.eps * (1 + 1e-6):
            raise InvalidArgumentError("`step` of the attack must lie in (0, eps].", step,
                                       f"(0, {self.eps}]")
        self.steps = check_positive_int("steps", steps)
        self.norm = _check_norm(norm)
        self.random_start = bool(random_start)
        self.clip = _check_clip(clip)
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed)

    def perturb(self, loss_of_image, image):
        """Returns adversarial images for a batch, with no gradient back to the weights.

        Args:
            loss_of_image: callable mapping an image batch to per-sample losses to raise.
            image: float tensor (batch, height, width, bands).

        Returns:
            The adversarial image batch (a tensor, gradients stopped).
        """
        x0 = tf.stop_gradient(tf.cast(image, "float32"))
        batch = tf.shape(x0)[0]
        eps = tf.fill([batch], self.eps)
        step = tf.fill([batch], self.step)
        x = x0
        if self.random_start:
            x = self._random_start(x0)
        for _ in range(self.steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                per_image = tf.cast(loss_of_image(x), "float32")
                # Each image's loss divided by its own value (held constant): the same ascent
                # direction per image (sign and L2 steps ignore a positive factor per image),
                # but gradients of order 1. Under a mixed-precision policy the raw gradient of
                # a confidently classified image underflows in the float16 layers and FGSM
                # would leave most of its pixels unchanged. The floor 1e-30 only keeps the
                # factor finite where a loss is exactly 0 (and so is its gradient); the
                # training loss (log(1 + sum of the other p / p[label])) has a gradient at
                # the logits of about its own size where it is small, so the factor does not
                # blow the gradient up.
                loss = tf.reduce_sum(per_image / tf.stop_gradient(
                    tf.maximum(per_image, 1e-30)))
            grad = tape.gradient(loss, x)
            x = x + tf.reshape(step, (-1, 1, 1, 1)) * step_direction(grad, self.norm)
            x = self._clip(x)
            x = x0 + project_to_ball(x - x0, eps, self.norm)
        return tf.stop_gradient(x)

    def _random_start(self, x0):
        if self.norm == "inf":
            noise = keras.random.uniform(tf.shape(x0), -self.eps, self.eps,
                                         seed=self._seed_generator)
        else:
            direction = keras.random.normal(tf.shape(x0), seed=self._seed_generator)
            flat = tf.reshape(direction, (tf.shape(x0)[0], -1))
            dim = tf.cast(tf.shape(flat)[1], "float32")
            unit = flat / tf.maximum(tf.norm(flat, axis=1, keepdims=True), 1e-12)
            radius = keras.random.uniform((tf.shape(x0)[0], 1), seed=self._seed_generator)
            noise = tf.reshape(unit * self.eps * radius ** (1.0 / dim), tf.shape(x0))
        return self._clip(x0 + noise)

    def _clip(self, x):
        if self.clip is None:
            return x
        return tf.clip_by_value(x, self.clip[0], self.clip[1])

    def get_config(self):
        return {"eps": self.eps, "step": self.step, "steps": self.steps, "norm": self.norm,
                "random_start": self.random_start, "clip": self.clip, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="astrokeras")
class FGSM(PGD):
    """The fast gradient sign method (Goodfellow et al. 2015): one step of size eps.

    Args:
        eps: perturbation budget, > 0 (0.01 in Campagne 2021).
        norm: "inf" (signed step) or 2.
        clip: None or (low, high) valid pixel range.

    Example:

    >>> FGSM(eps=0.01).get_config()
    {'eps': 0.01, 'norm': 'inf', 'clip': None}
    """

    def __init__(self, eps, norm="inf", clip=None):
        super().__init__(eps=eps, step=eps, steps=1, norm=norm, random_start=False, clip=clip)

    def get_config(self):
        return {"eps": self.eps, "norm": self.norm, "clip": self.clip}
