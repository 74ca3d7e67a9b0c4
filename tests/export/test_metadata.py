import onnx
import pytest

from astrokeras import models
from astrokeras.data import ClipArcsinh
from astrokeras.errors import DataError, InvalidArgumentError
from astrokeras.export import model_metadata, read_metadata, to_onnx, to_saved_model

MANIFEST = {
    "kind": "morphology", "seed": 3, "n": 100, "created_by": "astrokeras.data.write_dataset",
    "classes": ["spiral", "elliptical", "merger"], "bands": ["g", "r", "i"],
    "domains": ["y10", "y1"],
    "preprocessing": {"method": "clip_arcsinh", "low": [0.0, 0.1, 0.2],
                      "high": [5.0, 6.0, 7.0], "c": 0.85, "percentiles": [0.1, 99.9],
                      "fitted_on": {"domain": "y10", "split": "train"}},
    "per_domain_preprocessing": {
        "y10": {"method": "clip_arcsinh", "low": [0.0, 0.1, 0.2], "high": [5.0, 6.0, 7.0],
                "c": 0.85, "percentiles": [0.1, 99.9]},
        "y1": {"method": "clip_arcsinh", "low": [0.0, 0.0, 0.0], "high": [9.0, 9.0, 9.0],
               "c": 0.85},
    },
}


def test_round_trip_through_onnx_and_saved_model(tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[model]\narchitecture = "convnet"\n')
    model = models.convnet((16, 16, 3))
    meta = model_metadata(model, manifest=MANIFEST, domain="y1", recipe=recipe)
    onnx_meta = read_metadata(to_onnx(model, tmp_path / "m.onnx", metadata=meta).path)
    saved_meta = read_metadata(to_saved_model(model, tmp_path / "sm", metadata=meta).path)
    for read in (onnx_meta, saved_meta):
        assert read["schema"] == "astrokeras.export/1"
        assert read["task"] == "classification"
        assert read["class_names"] == ["spiral", "elliptical", "merger"]
        assert read["bands"] == ["g", "r", "i"]
        # the one preprocessing, fitted on the source, whatever domain the model serves
        assert ClipArcsinh.from_config(read["preprocessing"]) == ClipArcsinh(
            (0.0, 0.1, 0.2), (5.0, 6.0, 7.0), 0.85)
        assert read["preprocessing"]["fitted_on"] == {"domain": "y10", "split": "train"}
        assert read["dataset"]["domain"] == "y1"
        assert read["recipe"]["file"] == "recipe.toml"
        assert read["recipe"]["text"] == recipe.read_text()
        assert len(read["recipe"]["sha256"]) == 64
        assert read["astrokeras_version"] and read["software"]["tensorflow"]
        assert read["inputs"][0]["shape"] == [None, 16, 16, 3]
    assert onnx_meta["format"] == "onnx" and saved_meta["format"] == "saved_model"


def test_photoz_metadata_has_redshift_bins_and_both_inputs(tmp_path):
    model = models.simple_photoz_cnn((16, 16, 5), num_bins=10)
    meta = model_metadata(model, bands="u,g,r,i,z", redshift_range=(0.0, 0.5))
    read = read_metadata(to_onnx(model, tmp_path / "pz.onnx", metadata=meta).path)
    assert read["task"] == "photoz"
    assert read["redshift_bins"] == {"z_min": 0.0, "z_max": 0.5, "num_bins": 10}
    assert "class_names" not in read
    assert [i["name"] for i in read["inputs"]] == ["image", "ebv"]
    assert read["inputs"][1]["shape"] == [None, 1]
    assert read["bands"] == ["u", "g", "r", "i", "z"]


def test_defaults_without_manifest():
    meta = model_metadata(models.convnet((16, 16, 3), num_classes=2))
    assert meta["class_names"] == ["0", "1"]
    assert meta["bands"] is None and meta["preprocessing"] is None and meta["recipe"] is None
    assert model_metadata(models.inception_photoz((16, 16, 5), num_bins=4))[
        "redshift_bins"] == {"z_min": 0.0, "z_max": 0.4, "num_bins": 4}


@pytest.mark.parametrize("kwargs, message", [
    ({"class_names": ["a", "b"]}, "`class_names` must hold 3"),
    ({"class_names": ["a", "a", "b"]}, "`class_names` must hold 3 distinct"),
    ({"bands": ["g", "r"]}, "`bands` must name the 3"),
    ({"task": "regression"}, "`task` is unknown"),
    ({"manifest": MANIFEST, "domain": "hst"}, "`domain` is not a domain"),
    ({"preprocessing": {"method": "clip_arcsinh", "low": [0], "high": [1]}},
     "`preprocessing` has limits for 1 bands"),
    ({"task": "classification", "redshift_range": (0.0, 0.4)},
     "`redshift_range` applies to photo-z"),
])
def test_inconsistent_metadata_is_refused(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        model_metadata(models.convnet((16, 16, 3)), **kwargs)


def test_bad_redshift_range_is_refused():
    with pytest.raises(InvalidArgumentError, match="0 <= z_min < z_max"):
        model_metadata(models.simple_photoz_cnn((16, 16, 5), num_bins=4),
                       redshift_range=(0.4, 0.1))


def test_files_without_astrokeras_metadata_raise_data_error(tmp_path):
    path = tmp_path / "m.onnx"
    to_onnx(models.convnet((16, 16, 3)), path)
    proto = onnx.load(path)
    del proto.metadata_props[:]
    onnx.save(proto, tmp_path / "bare.onnx")
    with pytest.raises(DataError, match="carries no astrokeras metadata"):
        read_metadata(tmp_path / "bare.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf at all")
    with pytest.raises(DataError, match="Cannot read"):
        read_metadata(tmp_path / "junk.onnx")
    with pytest.raises(FileNotFoundError):
        read_metadata(tmp_path / "missing.onnx")


def test_run_json_without_its_dataset_folder_still_gives_recipe_and_stretch(tmp_path):
    import json

    own = MANIFEST["per_domain_preprocessing"]
    (tmp_path / "run.json").write_text(json.dumps({
        "recipe": {"data": {"directory": str(tmp_path / "gone"), "source": "y10",
                            "target": "y1"}},
        "dataset": {"directory": str(tmp_path / "gone"), "kind": "morphology", "n": 9,
                    "seed": 4},
        # a normalisation-based adaptation run: the target stretched with its own limits
        "preprocessing": {"source": own["y10"], "target": own["y1"]}}))
    meta = model_metadata(models.convnet((16, 16, 3)), run=tmp_path, bands="g,r,i")
    assert meta["recipe"]["data"]["source"] == "y10"
    assert meta["preprocessing"]["low"] == [0.0, 0.0, 0.0]  # the served target's stretch
    assert meta["dataset"]["seed"] == 4 and meta["dataset"]["domain"] == "y1"
    meta = model_metadata(models.convnet((16, 16, 3)), run=tmp_path, bands="g,r,i",
                          domain="y10")
    assert meta["preprocessing"]["low"] == [0.0, 0.1, 0.2]
    with pytest.raises(InvalidArgumentError, match="not a domain of the run"):
        model_metadata(models.convnet((16, 16, 3)), run=tmp_path, domain="y5")
    with pytest.raises(FileNotFoundError, match="No run.json"):
        model_metadata(models.convnet((16, 16, 3)), run=tmp_path / "elsewhere")
