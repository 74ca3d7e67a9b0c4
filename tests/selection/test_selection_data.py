import numpy as np
import pytest
import tensorflow as tf

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import ModelOutputs, SelectionData


def _images(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4, 4, 1)).astype("float32")


def test_target_labels_are_refused_by_design():
    images, labels = _images(6), np.zeros(6)
    for labelled in ((images, labels), [images, labels],
                     tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)):
        with pytest.raises(InvalidArgumentError, match="target labels never reach"):
            SelectionData(labelled)


def test_model_outputs_have_no_place_for_target_labels():
    assert not any("target_label" in field for field in ModelOutputs.__dataclass_fields__)


def test_arrays_are_cut_to_a_seeded_subset_that_keeps_images_and_labels_together():
    images = _images(50)
    labels = np.arange(50)
    first = SelectionData(images, source=(images, labels), max_samples=10, seed=4)
    again = SelectionData(images, source=(images, labels), max_samples=10, seed=4)
    np.testing.assert_array_equal(first.source_images, again.source_images)
    np.testing.assert_array_equal(first.source_images, images[first.source_labels])
    assert first.n_target == first.n_source == 10
    assert len(np.unique(first.source_labels)) == 10


def test_batched_datasets_are_read_up_to_max_samples():
    images = _images(20)
    source = tf.data.Dataset.from_tensor_slices((images, np.arange(20), np.ones(20))).batch(6)
    data = SelectionData(tf.data.Dataset.from_tensor_slices(images).batch(6), source=source,
                         max_samples=8)
    np.testing.assert_array_equal(data.target_images, images[:8])
    np.testing.assert_array_equal(data.source_labels, np.arange(8))


def test_source_images_without_labels_are_kept_unlabelled():
    data = SelectionData(_images(4), source=_images(5, seed=1))
    assert data.n_source == 5 and data.source_labels is None


def test_dict_inputs_are_subset_together():
    inputs = {"image": _images(12), "ebv": np.arange(12, dtype="float32")}
    data = SelectionData(inputs, max_samples=5)
    np.testing.assert_array_equal(data.target_images["image"],
                                  inputs["image"][data.target_images["ebv"].astype(int)])


@pytest.mark.parametrize("kwargs, name", [
    ({"target_images": np.full((2, 4, 4, 1), np.nan)}, "`target_images`"),
    ({"target_images": np.zeros((0, 4, 4, 1))}, "`target_images`"),
    ({"target_images": np.zeros((2, 4, 4, 1)), "max_samples": 0}, "`max_samples`"),
    ({"target_images": np.zeros((2, 4, 4, 1)),
      "source": (np.zeros((3, 4, 4, 1)), np.zeros(2))}, "labels of `source`"),
])
def test_bad_input_is_named(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=name):
        SelectionData(**kwargs)
