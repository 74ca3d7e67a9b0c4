import galsim
import numpy as np
import pytest

from astrokeras.data import morphometry
from astrokeras.errors import InvalidArgumentError


def _draw(profile, size=64):
    return profile.drawImage(nx=size, ny=size, scale=0.2).array


def test_gini_extremes():
    mask = np.ones((5, 5), bool)
    assert morphometry.gini(np.ones((5, 5)), mask) == pytest.approx(0.0)
    spike = np.zeros((5, 5))
    spike[2, 2] = 1.0
    assert morphometry.gini(spike, mask) == pytest.approx(1.0)


def test_concentrated_profiles_have_higher_gini_and_lower_m20():
    de_vaucouleurs = _draw(galsim.DeVaucouleurs(half_light_radius=1.5))
    exponential = _draw(galsim.Exponential(half_light_radius=1.5))
    assert morphometry.gini(de_vaucouleurs) > morphometry.gini(exponential) + 0.05
    assert morphometry.m20(de_vaucouleurs) < morphometry.m20(exponential)


def test_double_nucleus_raises_m20():
    single = _draw(galsim.Exponential(half_light_radius=1.0))
    double = _draw(galsim.Exponential(half_light_radius=1.0).shift(-2, 0)
                   + galsim.Exponential(half_light_radius=1.0).shift(2, 0))
    assert morphometry.m20(double) > morphometry.m20(single) + 0.5
    assert morphometry.gm20_class(0.6, morphometry.m20(double)) == "merger"


def test_bad_image_is_refused():
    with pytest.raises(InvalidArgumentError, match="`image`"):
        morphometry.gini(np.zeros(5))
    with pytest.raises(InvalidArgumentError, match="NaN"):
        morphometry.m20(np.full((5, 5), np.nan))


@pytest.fixture(scope="module")
def noiseless_sample():
    from astrokeras.data import MorphologySimulation

    sim = MorphologySimulation(size=64, class_fractions=(1, 1, 1))
    labels = sim.labels(6, 1)
    return [sim.noiseless(i, 1, labels[i])[..., 1] for i in range(6)]


def _statmorph(image, mask):
    import warnings

    statmorph = pytest.importorskip("statmorph")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return statmorph.source_morphology(
            image, mask.astype(int), weightmap=np.full(image.shape, 1e-3 * image.max()))[0]


def test_gini_and_m20_match_statmorph_on_the_same_pixels(noiseless_sample):
    for image in noiseless_sample:
        reference = _statmorph(image, morphometry.segmentation(image))
        pixels = reference._segmap_gini  # statmorph's own Gini segmentation of this image
        stamp = reference._cutout_stamp_maskzeroed
        assert morphometry.gini(stamp, pixels) == pytest.approx(reference.gini, abs=1e-6)
        assert morphometry.m20(stamp, pixels) == pytest.approx(reference.m20, abs=1e-6)


def test_gini_and_m20_agree_with_statmorph_on_a_sample(noiseless_sample):
    ours, theirs = [], []
    for image in noiseless_sample:
        reference = _statmorph(image, morphometry.segmentation(image))
        ours.append((morphometry.gini(image), morphometry.m20(image)))
        theirs.append((reference.gini, reference.m20))
    difference = np.abs(np.array(ours) - np.array(theirs))
    assert np.median(difference[:, 0]) < 0.03 and difference[:, 0].max() < 0.12
    assert np.median(difference[:, 1]) < 0.06 and difference[:, 1].max() < 0.2
