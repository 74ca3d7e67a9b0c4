import keras
import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.models import simple_photoz_cnn


def trainable_count(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def inputs(batch=2, image_shape=(64, 64, 5), seed=0):
    rng = np.random.default_rng(seed)
    return {"image": rng.normal(size=(batch, *image_shape)).astype("float32"),
            "ebv": rng.uniform(0.0, 0.1, size=(batch, 1)).astype("float32")}


@pytest.fixture(scope="module")
def model():
    return simple_photoz_cnn()


def test_default_trainable_count_is_table_a2(model):
    assert trainable_count(model) == 13_461_008


def test_layer_shapes_follow_the_table(model):
    expected = {"conv0": (None, 64, 64, 64), "conv0_pool": (None, 32, 32, 64),
                "conv1": (None, 34, 34, 92), "conv1_pool": (None, 17, 17, 92),
                "conv2": (None, 19, 19, 128), "conv2_pool": (None, 10, 10, 128),
                "flatten": (None, 12_800), "concat_ebv": (None, 12_801)}
    for name, shape in expected.items():
        assert tuple(model.get_layer(name).output.shape) == shape


def test_inputs_are_image_and_ebv(model):
    assert [t.name for t in model.inputs] == ["image", "ebv"]
    assert tuple(model.inputs[1].shape) == (None, 1)


def test_latent_layer_has_1024_units(model):
    assert tuple(model.get_layer("latent").output.shape) == (None, 1024)


def test_biases_start_at_0_1(model):
    for name in ("conv0", "conv1", "conv2", "latent", "logits"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(model.get_layer(name).bias), 0.1)


def test_output_is_a_distribution_over_180_bins(model):
    pdf = keras.ops.convert_to_numpy(model(inputs()))
    assert pdf.shape == (2, 180)
    assert np.all(pdf >= 0)
    np.testing.assert_allclose(pdf.sum(axis=-1), 1.0, rtol=1e-5)


def test_without_ebv_single_image_input_and_1024_fewer_parameters(model):
    no_ebv = simple_photoz_cnn(with_ebv=False)
    assert [t.name for t in no_ebv.inputs] == ["image"]
    assert trainable_count(no_ebv) == 13_461_008 - 1024
    pdf = no_ebv(np.zeros((2, 64, 64, 5), "float32"))
    assert tuple(pdf.shape) == (2, 180)


def test_save_load_and_config_round_trip_give_identical_outputs(tmp_path):
    model = simple_photoz_cnn(image_shape=(32, 32, 5), num_bins=20)
    x = inputs(image_shape=(32, 32, 5))
    expected = model.predict(x, verbose=0)
    path = tmp_path / "simple_photoz_cnn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), expected)


@pytest.mark.parametrize("kwargs, name", [
    ({"image_shape": (64, 64)}, "image_shape"),
    ({"image_shape": (0, 64, 5)}, "image_shape"),
    ({"image_shape": (64, 7, 5)}, "image_shape"),
    ({"image_shape": (64, 64, 2.0)}, "image_shape"),
    ({"num_bins": -3}, "num_bins"),
    ({"with_ebv": 1}, "with_ebv"),
])
def test_bad_arguments_raise_naming_argument_and_value(kwargs, name):
    with pytest.raises(InvalidArgumentError) as info:
        simple_photoz_cnn(**kwargs)
    assert isinstance(info.value, ValueError)
    assert f"`{name}`" in str(info.value)
    assert repr(kwargs[name]) in str(info.value)
