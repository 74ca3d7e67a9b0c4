"""Adversarial attacks on survey-image models: FGSM, PGD (L-inf, L2) and the one-pixel attack.

All attacks are batched and compiled (`tf.function`), accept classifiers and the photo-z
networks (for a model with inputs `{"image", "ebv"}` only the image is perturbed), and check
their arguments before any work. FGSM and PGD are one iteration (`projected_gradient`, written
with `keras.ops`) around one backend-specific `input_gradient`, shared with the in-graph
attacks of adversarial training (`astrokeras.training.FGSM` / `PGD`); `checks` holds the
norm, clip and budget checks both use.
"""

from astrokeras.attacks._inputs import clear_compiled
from astrokeras.attacks.fgsm import fgsm
from astrokeras.attacks.one_pixel import one_pixel
from astrokeras.attacks.one_pixel_result import OnePixelResult
from astrokeras.attacks.pgd import pgd
from astrokeras.attacks.redshift_bins import redshift_bins
from astrokeras.attacks.summarize import summarize

__all__ = ["fgsm", "pgd", "one_pixel", "OnePixelResult", "redshift_bins", "summarize",
           "clear_compiled"]
