import json
import os

import numpy as np
import pytest

from astrokeras import __version__
from astrokeras.data import load, load_manifest, shard_paths, simulate, write_dataset
from astrokeras.data import shards as shards_lib
from astrokeras.errors import ConfigError, DataError, InvalidArgumentError


def _bytes(path):
    return {name: open(os.path.join(path, name), "rb").read()
            for name in sorted(os.listdir(path)) if name.endswith(".tfrecord")}


def test_manifest_says_what_was_simulated(tiny_dataset, tiny_sim):
    path, manifest = tiny_dataset
    assert load_manifest(path) == manifest
    assert manifest["schema"] == shards_lib.SCHEMA
    assert manifest["astrokeras_version"] == __version__
    assert manifest["kind"] == "morphology" and manifest["seed"] == 4
    assert manifest["simulation"] == tiny_sim.get_config()
    assert manifest["counts"]["per_class"] == {"spiral": 4, "elliptical": 4, "merger": 4}
    assert manifest["counts"]["per_domain"] == {"y10": 12, "y1": 12}
    assert [s["n"] for s in manifest["shards"]] == [5, 5, 2]
    per_domain = manifest["per_domain_preprocessing"]
    for domain in ("y10", "y1"):
        prep = per_domain[domain]
        assert prep["percentiles"] == [0.1, 99.9] and prep["c"] == 0.85
        assert all(h > lo for lo, h in zip(prep["low"], prep["high"]))
        assert prep["fitted_on"] == {"domain": domain, "split": "train", "seed": 4,
                                     "fractions": [0.7, 0.1, 0.2], "galaxies": 8}
    # One preprocessing for every domain: the source's (first domain's) training-split fit.
    assert manifest["preprocessing"] == per_domain["y10"]
    # Y1 is noisier: its own lower clip limit sits further below zero in every band.
    assert all(a < b for a, b in zip(per_domain["y1"]["low"], per_domain["y10"]["low"]))


def _training_pixel_percentiles(path, manifest, domain):
    """The clip limits recomputed by hand from the sidecars' samples of the training galaxies."""
    from astrokeras.data import split_ids

    rows = []
    for shard in manifest["shards"]:
        with np.load(os.path.join(path, shard["file"].replace(".tfrecord", ".npz"))) as side:
            sample = side[f"sample/{domain}"].reshape(shard["n"], shards_lib.PIXEL_SAMPLE, -1)
        ids = np.arange(shard["first_id"], shard["first_id"] + shard["n"])
        rows.append(sample[np.isin(ids, split_ids(manifest["n"], manifest["seed"])["train"])])
    pixels = np.concatenate(rows).reshape(-1, sample.shape[-1]).astype(np.float64)
    return np.percentile(pixels, 0.1, axis=0), np.percentile(pixels, 99.9, axis=0)


def test_the_one_preprocessing_is_fitted_on_the_source_training_split_only(tiny_dataset,
                                                                           tmp_path):
    import shutil

    path, manifest = tiny_dataset
    low, high = _training_pixel_percentiles(path, manifest, "y10")
    np.testing.assert_allclose(manifest["preprocessing"]["low"], low, rtol=1e-12)
    np.testing.assert_allclose(manifest["preprocessing"]["high"], high, rtol=1e-12)
    # Validation and test pixels (here made absurd) do not move the transform at all.
    from astrokeras.data import split_ids

    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    held_out = np.concatenate([split_ids(12, 4)[s] for s in ("validation", "test")])
    for shard in manifest["shards"]:
        sidecar = copy / shard["file"].replace(".tfrecord", ".npz")
        with np.load(sidecar) as side:
            arrays = {key: side[key] for key in side.files}
        for domain in ("y10", "y1"):
            sample = arrays[f"sample/{domain}"].reshape(shard["n"], shards_lib.PIXEL_SAMPLE, -1)
            ids = np.arange(shard["first_id"], shard["first_id"] + shard["n"])
            sample[np.isin(ids, held_out)] = 1e6
            arrays[f"sample/{domain}"] = sample.reshape(-1, sample.shape[-1])
        np.savez(sidecar, **arrays)
    refitted = shards_lib.finalize(copy)
    assert refitted["preprocessing"] == manifest["preprocessing"]
    assert refitted["per_domain_preprocessing"] == manifest["per_domain_preprocessing"]


def test_an_older_manifest_is_refused_with_the_way_to_rewrite_it(tiny_dataset, tmp_path):
    import shutil

    path, manifest = tiny_dataset
    copy = tmp_path / "old"
    shutil.copytree(path, copy)
    old = dict(manifest, schema="astrokeras.dataset/1",
               preprocessing={d: manifest["per_domain_preprocessing"][d] for d in ("y10", "y1")})
    (copy / "manifest.json").write_text(json.dumps(old))
    with pytest.raises(ConfigError, match=r"older manifest .*finalize\("):
        load_manifest(copy)
    assert shards_lib.finalize(copy) == manifest
    assert load_manifest(copy) == manifest


def test_shards_hold_the_simulated_galaxies(tiny_dataset, tiny_sim):
    path, _ = tiny_dataset
    expected = simulate(tiny_sim, 12, seed=4)
    images, labels = [], []
    for x, y in load(path, "y1", split="all", batch_size=12, preprocess=False):
        images.append(x.numpy())
        labels.append(y.numpy())
    np.testing.assert_array_equal(np.concatenate(images), expected["y1"])
    np.testing.assert_array_equal(np.concatenate(labels), expected["label"])


def test_same_seed_byte_identical_whatever_the_workers_and_machines(tmp_path, tiny_sim):
    write_dataset(tiny_sim, 7, tmp_path / "one", seed=2, shard_size=3, workers=1)
    write_dataset(tiny_sim, 7, tmp_path / "two", seed=2, shard_size=3, workers=2)
    assert write_dataset(tiny_sim, 7, tmp_path / "split", seed=2, shard_size=3,
                         shard_index=1, num_shards=2) is None
    assert not (tmp_path / "split" / "manifest.json").exists()
    manifest = write_dataset(tiny_sim, 7, tmp_path / "split", seed=2, shard_size=3,
                             shard_index=0, num_shards=2)
    assert manifest["counts"]["total"] == 7
    one = _bytes(tmp_path / "one")
    assert len(one) == 3
    assert one == _bytes(tmp_path / "two") == _bytes(tmp_path / "split")
    assert json.load(open(tmp_path / "one" / "manifest.json")) == manifest


def test_interrupted_run_resumes_skipping_complete_shards(tmp_path, tiny_sim, monkeypatch):
    reference = tmp_path / "reference"
    write_dataset(tiny_sim, 6, reference, seed=8, shard_size=2)
    path = tmp_path / "interrupted"
    original = shards_lib._write_shard
    calls = []

    def flaky(shard_path, records, simulation, seed):
        calls.append(shard_path)
        if len(calls) == 2:
            next(records)  # half-way through the second shard...
            raise KeyboardInterrupt
        return original(shard_path, records, simulation, seed)

    monkeypatch.setattr(shards_lib, "_write_shard", flaky)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tiny_sim, 6, path, seed=8, shard_size=2)
    monkeypatch.setattr(shards_lib, "_write_shard", original)
    first = path / shards_lib.shard_name(0, 3)
    stamp = first.stat().st_mtime_ns
    assert not (path / shards_lib.shard_name(1, 3)).exists()  # nothing half written
    assert not (path / "manifest.json").exists()

    written = []
    monkeypatch.setattr(shards_lib, "_write_shard",
                        lambda p, *a: written.append(os.path.basename(p)) or original(p, *a))
    write_dataset(tiny_sim, 6, path, seed=8, shard_size=2)
    assert written == [shards_lib.shard_name(1, 3), shards_lib.shard_name(2, 3)]
    assert first.stat().st_mtime_ns == stamp
    assert _bytes(path) == _bytes(reference)


def test_a_different_dataset_in_the_same_directory_is_refused(tmp_path, tiny_sim):
    write_dataset(tiny_sim, 3, tmp_path, seed=1, shard_size=3)
    with pytest.raises(ConfigError, match="seed"):
        write_dataset(tiny_sim, 3, tmp_path, seed=2, shard_size=3)


def test_truncated_shard_error_names_the_file(tmp_path, tiny_sim):
    write_dataset(tiny_sim, 4, tmp_path, seed=1, shard_size=2)
    shard = tmp_path / shards_lib.shard_name(1, 2)
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=shards_lib.shard_name(1, 2)):
        load(tmp_path, "y10")


def test_corrupt_shard_is_found_by_verify(tmp_path, tiny_sim):
    write_dataset(tiny_sim, 4, tmp_path, seed=1, shard_size=2)
    shard = tmp_path / shards_lib.shard_name(0, 2)
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(DataError, match=shards_lib.shard_name(0, 2)):
        shard_paths(tmp_path, verify=True)
    with pytest.raises(DataError, match=shards_lib.shard_name(0, 2)):
        load(tmp_path, "y10")  # before TensorFlow reads a corrupted record


@pytest.mark.parametrize("key, value, match", [
    ("astrokeras_version", "0.0.1", "0.0.1"),
    ("schema", "other/9", "schema"),
    ("shards", "not a list", "shards"),
])
def test_foreign_manifest_is_refused(tiny_dataset, tmp_path, key, value, match):
    path, manifest = tiny_dataset
    (tmp_path / "manifest.json").write_text(json.dumps(dict(manifest, **{key: value})))
    with pytest.raises(ConfigError, match=match):
        load_manifest(tmp_path)


def test_missing_manifest_is_a_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest"):
        load_manifest(tmp_path)


@pytest.mark.parametrize("kwargs, name", [
    ({"n": 0}, "n"), ({"shard_size": 0}, "shard_size"),
    ({"shard_index": 2, "num_shards": 2}, "shard_index"), ({"seed": -3}, "seed"),
    ({"percentiles": (50, 10)}, "percentiles"), ({"c": 0.0}, "c"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, tiny_sim, kwargs, name):
    arguments = dict(n=4, directory=tmp_path / "out", seed=0)
    arguments.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        write_dataset(tiny_sim, **arguments)
    assert not (tmp_path / "out").exists()


def test_resuming_with_another_astrokeras_version_is_refused(tmp_path, tiny_sim):
    write_dataset(tiny_sim, 4, tmp_path, seed=1, shard_size=2, shard_index=0, num_shards=2)
    plan = json.loads((tmp_path / "plan.json").read_text())
    (tmp_path / "plan.json").write_text(json.dumps(dict(plan, astrokeras_version="0.0.1")))
    with pytest.raises(ConfigError, match="astrokeras_version"):
        write_dataset(tiny_sim, 4, tmp_path, seed=1, shard_size=2, shard_index=1, num_shards=2)


def test_finalize_restretches_a_dataset_without_simulating_it(tiny_dataset, tmp_path):
    import shutil

    path, manifest = tiny_dataset
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    restretched = shards_lib.finalize(copy, c=0.001)
    for domain in ("y10", "y1"):
        before = manifest["per_domain_preprocessing"][domain]
        after = restretched["per_domain_preprocessing"][domain]
        assert after["c"] == 0.001
        assert (after["low"], after["high"]) == (before["low"], before["high"])
    assert restretched["preprocessing"]["c"] == 0.001
    assert _bytes(copy) == _bytes(path)  # the shards are untouched
    assert shards_lib.finalize(copy)["preprocessing"]["c"] == 0.85  # the simulation's
    with pytest.raises(InvalidArgumentError, match="softening"):
        shards_lib.finalize(copy, c=-1.0)
