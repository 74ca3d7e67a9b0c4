"""Data kinds by name: the simulated data sets, their surveys and default domains.

Every `DATA_KINDS` entry is

    factory(data) -> astrokeras.data.Simulation

where `data` is the recipe's validated `[data]` table (the factory reads what it needs, e.g.
`data["size"]`). The simulation writes the dataset folder when a recipe's `[data].directory`
does not hold one yet. Schema: the `[data]` keys only this kind takes (class-held-out and
semi-supervised keys exist only for kinds whose labels are classes). Metadata:

- `source`, `target`: the default domains (`target` None: the kind has one domain);
- `task`: "classification" or "photoz" (must be the task of the recipe's architecture);
- `survey`: the survey the images imitate, for reports;
- `num_classes` (optional callable `manifest -> int`): what the classifier predicts; default
  the number of the manifest's classes.

Example:

>>> entry = DATA_KINDS.get("deepmerge")
>>> entry.metadata["source"], entry.metadata["target"], entry.metadata["survey"]
('psf', 'noisy', 'HST')
>>> entry.factory({"size": 32}).image_shape
(32, 32, 3)
"""

from astrokeras import data as data_lib
from astrokeras.experiments.registry import DATA_KINDS

#: The `[data]` keys of kinds whose labels are classes.
CLASS_SCHEMA = {
    # a class only the target holds (universal domain adaptation); -1: none
    "unknown_class": (int, -1, lambda v: v >= -1),
    # semi-supervised adaptation: labeled target training galaxies per known class, and the
    # share of each target batch drawn from them ([data].target_labels = "semi-supervised")
    "labeled_target": (int, 0, lambda v: v >= 0),
    "labeled_share": ((int, float), 0.25, lambda v: 0 < v < 1),
}


def _num_bins(manifest):
    return int(manifest["simulation"]["num_bins"])


DATA_KINDS.register(
    "morphology", lambda data: data_lib.MorphologySimulation(size=data["size"]),
    schema=CLASS_SCHEMA, source="y10", target="y1", task="classification", survey="LSST",
    description="spiral, elliptical and merger galaxies at LSST Y10 and Y1 depth "
                "(Ciprijanovic et al. 2022)")
DATA_KINDS.register(
    "deepmerge", lambda data: data_lib.DeepMergeSimulation(size=data["size"]),
    schema=CLASS_SCHEMA, source="psf", target="noisy", task="classification", survey="HST",
    description="mergers and non-mergers, PSF only and PSF + sky noise "
                "(Ciprijanovic et al. 2020)")
DATA_KINDS.register(
    "photoz", lambda data: data_lib.PhotoZSimulation(size=data["size"]),
    source="y10", target=None, task="photoz", survey="LSST", num_classes=_num_bins,
    description="five-band cutouts labelled with a redshift bin (Campagne 2021)")
