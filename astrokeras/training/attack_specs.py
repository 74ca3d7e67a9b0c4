"""In-graph attacks for adversarial training: FGSM and PGD specifications.

`astrokeras.attacks.fgsm` / `pgd` attack NumPy batches for evaluation; adversarial training
needs the same steps on tensors inside the compiled `train_step`. These small serializable
specs hold the attack's parameters, checked as `astrokeras.attacks` checks them, and run the
same iteration (`astrokeras.attacks.projected_gradient`) on a tensor batch: for the same model,
images, loss and seed, a spec and `astrokeras.attacks.pgd` / `fgsm` return the same images.
"""

import keras
from keras import ops

from astrokeras.attacks import checks
from astrokeras.attacks.projected_gradient import projected_gradient, random_start
from astrokeras.errors import check_positive_int


@keras.saving.register_keras_serializable(package="astrokeras")
class PGD:
    """Projected gradient descent (Madry et al. 2018), run on a tensor batch in the graph.

    Each of `steps` iterations steps by `step` along sign(g) (L-inf) or g/||g||_2 (L2), clips to
    `clip` and projects onto the eps-ball, as `astrokeras.attacks.pgd` does (the same code).

    Args:
        eps: perturbation budget, > 0.
        step: step size, 0 < step <= eps.
        steps: number of iterations.
        norm: "inf" or 2.
        random_start: start from a uniform draw in the eps-ball.
        clip: None or (low, high) valid pixel range (scalars, or one value per band).
        seed: seed of the random start.

    Example:

    >>> attack = PGD(eps=0.02, step=0.005, steps=10)
    >>> attack.get_config()["steps"]
    10
    """

    _project = True  # FGSM, a single step of size eps, stays in the ball without projection

    def __init__(self, eps, step, steps, norm="inf", random_start=True, clip=None, seed=None):
        self.eps, self.step = checks.check_budget(eps, step, positive=True)
        self.steps = check_positive_int("steps", steps)
        self.norm = checks.check_norm(norm)
        self.random_start = bool(random_start)
        self.clip = checks.check_clip(clip)
        self.seed = checks.check_seed(seed)
        self._seed_generator = keras.random.SeedGenerator(self.seed)

    def perturb(self, loss_of_image, image):
        """Returns adversarial images for a batch, with no gradient back to the weights.

        Args:
            loss_of_image: callable mapping an image batch to the per-image losses to raise;
                their sum is differentiated (`astrokeras.attacks.input_gradient`).
            image: float tensor (batch, height, width, bands).

        Returns:
            The adversarial image batch (a tensor, gradients stopped).
        """
        x0 = ops.stop_gradient(ops.cast(image, "float32"))
        batch = ops.shape(x0)[0]
        eps = ops.full((batch,), self.eps, "float32")
        step = ops.full((batch,), self.step, "float32")
        low, high = (None, None) if self.clip is None else self.clip
        start = x0
        if self.random_start:
            start = random_start(x0, eps, self.norm, low, high, seed=self._seed_generator)
        x = projected_gradient(loss_of_image, x0, start, eps=eps, step=step, steps=self.steps,
                               norm=self.norm, low=low, high=high, project=self._project)
        return ops.stop_gradient(x)

    def get_config(self):
        return {"eps": self.eps, "step": self.step, "steps": self.steps, "norm": self.norm,
                "random_start": self.random_start, "clip": _clip_config(self.clip),
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="astrokeras")
class FGSM(PGD):
    """The fast gradient sign method (Goodfellow et al. 2015): one step of size eps.

    As `astrokeras.attacks.fgsm` (the same code): `clip(x + eps * sign(g))` for L-inf,
    `clip(x + eps * g / ||g||_2)` for L2.

    Args:
        eps: perturbation budget, > 0 (0.01 in Campagne 2021).
        norm: "inf" (signed step) or 2.
        clip: None or (low, high) valid pixel range (scalars, or one value per band).

    Example:

    >>> FGSM(eps=0.01).get_config()
    {'eps': 0.01, 'norm': 'inf', 'clip': None}
    """

    _project = False

    def __init__(self, eps, norm="inf", clip=None):
        super().__init__(eps=eps, step=eps, steps=1, norm=norm, random_start=False, clip=clip)

    def get_config(self):
        return {"eps": self.eps, "norm": self.norm, "clip": _clip_config(self.clip)}


def _clip_config(clip):
    """`clip` as plain Python values (per-band bounds as lists), for the saved config."""
    if clip is None:
        return None
    return tuple(bound if isinstance(bound, float) else bound.tolist() for bound in clip)
