import importlib
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from astrokeras import models
from astrokeras.export import ExportParityError, read_metadata, to_saved_model
from tests.export.export_helpers import random_inputs, with_random_statistics

common = importlib.import_module("astrokeras.export._common")


@pytest.mark.parametrize("factory", [
    lambda: models.convnet((16, 16, 3)),
    lambda: models.simple_photoz_cnn((16, 16, 5), num_bins=12),
], ids=["convnet", "simple_photoz_cnn"])
def test_signature_takes_named_inputs_and_matches_keras(factory, tmp_path):
    model = with_random_statistics(factory())
    result = to_saved_model(model, tmp_path / "sm")
    assert result.max_difference <= 1e-4

    signature = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    names = [t.name for t in model.inputs]
    assert sorted(signature.structured_input_signature[1]) == sorted(names)
    arrays = random_inputs(model, 3, seed=7)
    got = signature(**{n: tf.constant(a) for n, a in zip(names, arrays)})
    assert sorted(got) == ["latent", "probabilities"]
    expected = model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)
    np.testing.assert_allclose(got["probabilities"].numpy(), expected, atol=1e-4)


def test_metadata_lies_beside_the_graph(tmp_path):
    result = to_saved_model(models.convnet((16, 16, 3)), tmp_path / "sm")
    sidecar = tmp_path / "sm" / "assets.extra" / "astrokeras.json"
    assert json.loads(sidecar.read_text()) == result.metadata == read_metadata(tmp_path / "sm")
    assert result.metadata["format"] == "saved_model"
    assert result.metadata["signature"] == "serving_default"


def test_export_replaces_an_existing_folder_completely(tmp_path):
    path = tmp_path / "sm"
    path.mkdir()
    (path / "stale.txt").write_text("old")
    to_saved_model(models.convnet((16, 16, 3)), path)
    assert not (path / "stale.txt").exists()
    assert (path / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]  # no temporary left


def test_parity_failure_keeps_the_previous_export(tmp_path, monkeypatch):
    path = tmp_path / "sm"
    to_saved_model(models.convnet((16, 16, 3), name="first"), path)
    real = common.max_differences

    def too_far(reference, exported):
        return {k: v + 1e-3 for k, v in real(reference, exported).items()}

    module = importlib.import_module("astrokeras.export.to_saved_model")
    monkeypatch.setattr(module._common, "max_differences", too_far)
    with pytest.raises(ExportParityError):
        to_saved_model(models.convnet((16, 16, 3), name="second"), path)
    assert read_metadata(path)["model_name"] == "first"
    assert sorted(os.listdir(tmp_path)) == ["sm"]


def test_included_stretch_makes_the_signature_take_raw_images(tmp_path):
    from astrokeras.data import ClipArcsinh
    from astrokeras.export import model_metadata
    from tests.export.export_helpers import STRETCH

    model = models.convnet((16, 16, 3))
    path = tmp_path / "raw"
    to_saved_model(model, path, metadata=model_metadata(model, preprocessing=STRETCH),
                   include_preprocessing=True)
    assert read_metadata(path)["preprocessing_in_graph"] is True
    raw = np.random.default_rng(6).uniform(-10, 90, (4, 16, 16, 3)).astype("float32")
    got = tf.saved_model.load(str(path)).signatures["serving_default"](image=tf.constant(raw))
    np.testing.assert_allclose(got["probabilities"].numpy(),
                               model.predict(ClipArcsinh.from_config(STRETCH)(raw), verbose=0),
                               atol=1e-4)
