import numpy as np
import pytest

from astrokeras.data import (PER_DOMAIN, ClipArcsinh, from_arrays, load, load_domain_adaptation,
                             load_pairs, pair_domains, pick_labeled, simulate, split_ids,
                             stretch)
from astrokeras.errors import InvalidArgumentError


def _collect(dataset):
    xs, ys = [], []
    for x, y in dataset:
        xs.append(x.numpy())
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def test_split_ids_are_by_galaxy_and_cover_the_dataset():
    ids = split_ids(100, seed=3)
    parts = [set(ids[s]) for s in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [70, 10, 20]
    assert set().union(*parts) == set(range(100))
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert np.array_equal(split_ids(100, seed=3)["test"], ids["test"])
    assert not np.array_equal(split_ids(100, seed=4)["test"], ids["test"])


def test_splits_keep_the_y10_and_y1_images_of_a_galaxy_together(tiny_dataset, tiny_sim):
    path, manifest = tiny_dataset
    raw = simulate(tiny_sim, 12, seed=4)
    for split in ("train", "validation", "test"):
        ids = split_ids(12, seed=4)[split]
        for domain in ("y10", "y1"):
            images, labels = _collect(load(path, domain, split=split, batch_size=4,
                                           shuffle=False, augment_images=False,
                                           preprocess=False))
            np.testing.assert_array_equal(images, raw[domain][ids])
            np.testing.assert_array_equal(labels, raw["label"][ids])


def test_every_domain_gets_the_one_source_fitted_stretch(tiny_dataset, tiny_sim):
    path, manifest = tiny_dataset
    raw = simulate(tiny_sim, 12, seed=4)
    one = ClipArcsinh.from_config(manifest["preprocessing"])
    for domain in ("y10", "y1"):
        images, _ = _collect(load(path, domain, split="all", batch_size=12, shuffle=False))
        np.testing.assert_allclose(images, one(raw[domain]), atol=1e-6)
        assert images.min() >= 0.0 and images.max() <= 1.0 + 1e-6
        assert stretch(manifest, domain) == one
    (y10, y1), _ = next(iter(load_pairs(path, split="all", batch_size=12)))
    np.testing.assert_allclose(y1.numpy(), one(raw["y1"]), atol=1e-6)


def test_per_domain_stretch_only_when_asked_and_a_given_stretch_is_applied(tiny_dataset,
                                                                          tiny_sim):
    path, manifest = tiny_dataset
    raw = simulate(tiny_sim, 12, seed=4)
    own = ClipArcsinh.from_config(manifest["per_domain_preprocessing"]["y1"])
    assert own != ClipArcsinh.from_config(manifest["preprocessing"])
    images, _ = _collect(load(path, "y1", split="all", batch_size=12, shuffle=False,
                              preprocess=PER_DOMAIN))
    np.testing.assert_allclose(images, own(raw["y1"]), atol=1e-6)
    given = ClipArcsinh(low=(0.0, 0.0, 0.0), high=(1.0, 2.0, 3.0), c=0.5)
    images, _ = _collect(load(path, "y10", split="all", batch_size=12, shuffle=False,
                              preprocess=given.get_config()))
    np.testing.assert_allclose(images, given(raw["y10"]), atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="clip limits for 1 bands"):
        load(path, "y1", preprocess=ClipArcsinh(low=(0.0,), high=(1.0,)))
    with pytest.raises(InvalidArgumentError, match="`preprocess` must be"):
        load(path, "y1", preprocess="own")


def test_pipeline_stretch_is_bit_identical_to_the_former_tensorflow_formula(tiny_dataset,
                                                                             tiny_sim):
    import math

    import tensorflow as tf

    path, manifest = tiny_dataset
    raw = simulate(tiny_sim, 12, seed=4)
    images, _ = _collect(load(path, "y1", split="all", batch_size=12, shuffle=False))
    # The stretch as the pipeline wrote it before it became a Keras layer.
    config = manifest["preprocessing"]
    low, high = tf.constant(config["low"], tf.float32), tf.constant(config["high"], tf.float32)
    unit = (tf.clip_by_value(raw["y1"], low, high) - low) / (high - low)
    expected = tf.asinh(unit / config["c"]) * (1.0 / math.asinh(1.0 / config["c"]))
    np.testing.assert_array_equal(images, expected.numpy())


def test_augmentation_is_a_flip_or_rotation_of_the_galaxy(tiny_dataset):
    path, _ = tiny_dataset
    plain, _ = _collect(load(path, "y10", split="all", batch_size=12, shuffle=False,
                             augment_images=False))
    augmented, _ = _collect(load(path, "y10", split="all", batch_size=12, shuffle=False,
                                 augment_images=True))
    changed = 0
    for a, b in zip(plain, augmented):
        variants = [np.rot90(f, k) for f in (a, a[:, ::-1]) for k in range(4)]
        assert any(np.array_equal(v, b) for v in variants)
        changed += not np.array_equal(a, b)
    assert changed >= 6


def test_shuffle_is_seeded(tiny_dataset):
    path, _ = tiny_dataset
    a = _collect(load(path, "y10", split="all", batch_size=12, seed=1))[1]
    b = _collect(load(path, "y10", split="all", batch_size=12, seed=1))[1]
    np.testing.assert_array_equal(a, b)


def test_domain_adaptation_dataset_structure(tiny_dataset):
    path, _ = tiny_dataset
    dataset = load_domain_adaptation(path, "y10", "y1", split="all", batch_size=4)
    batches = list(dataset)
    assert len(batches) == 3  # the epoch follows the source
    (source, target), labels = batches[0]
    assert source.shape == target.shape == (4, 24, 24, 3)
    assert labels.shape == (4,)
    # Each domain has its own stretch: the target is not the source image.
    assert not np.allclose(source.numpy(), target.numpy())


def test_pair_domains_repeats_the_shorter_target():
    import tensorflow as tf

    source = tf.data.Dataset.from_tensor_slices((np.zeros((6, 2)), np.arange(6))).batch(2)
    target = tf.data.Dataset.from_tensor_slices(np.ones((2, 2))).batch(2)
    batches = list(pair_domains(source, target))
    assert len(batches) == 3
    assert all(float(t.numpy().sum()) == 4.0 for (_, t), _ in batches)


def test_from_arrays_in_memory(tiny_sim):
    data = simulate(tiny_sim, 6, seed=0)
    images, labels = _collect(from_arrays(data, "y1", batch_size=4, shuffle=False))
    assert images.shape == (6, 24, 24, 3) and 0 <= images.min() and images.max() <= 1 + 1e-6
    np.testing.assert_array_equal(labels, data["label"])


@pytest.mark.parametrize("kwargs, name", [({"domain": "y5"}, "domain"),
                                          ({"split": "holdout"}, "split"),
                                          ({"batch_size": 0}, "batch_size"),
                                          ({"fractions": (0.5, 0.5, 0.5)}, "fractions"),
                                          ({"galaxy_ids": [0, 99]}, "galaxy_ids"),
                                          ({"galaxy_ids": []}, "galaxy_ids"),
                                          ({"shuffle_seed": -1}, "shuffle_seed"),
                                          ({"seed": True}, "seed")])
def test_bad_arguments_name_themselves(tiny_dataset, kwargs, name):
    path, _ = tiny_dataset
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        load(path, **kwargs)


def test_class_repeats_oversample_a_class_with_different_augmentations(tiny_dataset):
    path, _ = tiny_dataset
    plain, labels = _collect(load(path, "y10", split="all", batch_size=32, shuffle=False,
                                  augment_images=False))
    images, repeated = _collect(load(path, "y10", split="all", batch_size=32, shuffle=False,
                                     augment_images=True, class_repeats={"merger": 3}))
    assert np.bincount(repeated).tolist() == [4, 4, 12]
    mergers = images[repeated == 2]
    assert len({m.tobytes() for m in mergers}) > 4  # the copies are transformed differently
    with pytest.raises(InvalidArgumentError, match="`class_repeats`"):
        load(path, class_repeats={"irregular": 2})
    with pytest.raises(InvalidArgumentError, match="`class_repeats\\['merger'\\]` must be at"):
        load(path, class_repeats={"merger": 0})


def test_augmentation_changes_between_epochs_but_is_reproducible(tiny_dataset):
    path, _ = tiny_dataset

    def two_epochs():
        dataset = load(path, "y10", split="all", batch_size=12, shuffle=False,
                       augment_images=True, seed=5)
        return [_collect(dataset)[0] for _ in range(2)]

    first, second = two_epochs()
    assert not np.array_equal(first, second)
    again = two_epochs()
    np.testing.assert_array_equal(first, again[0])
    np.testing.assert_array_equal(second, again[1])


def test_split_sizes_are_known_to_keras(tiny_dataset):
    path, _ = tiny_dataset
    ids = split_ids(12, seed=4)
    for split in ("train", "test"):
        dataset = load(path, "y10", split=split, batch_size=2)
        assert int(dataset.cardinality()) == -(-len(ids[split]) // 2)
    paired = load_domain_adaptation(path, split="train", batch_size=2)
    assert int(paired.cardinality()) == -(-len(ids["train"]) // 2)


def test_load_pairs_aligns_the_same_galaxies_across_domains(tiny_dataset, tiny_sim):
    path, manifest = tiny_dataset
    raw = simulate(tiny_sim, 12, seed=4)
    ids = split_ids(12, seed=4)["test"]
    y10, y1, labels = [], [], []
    for (a, b), y in load_pairs(path, ("y10", "y1"), split="test", batch_size=2,
                                preprocess=False):
        y10.append(a.numpy())
        y1.append(b.numpy())
        labels.append(y.numpy())
    np.testing.assert_array_equal(np.concatenate(y10), raw["y10"][ids])
    np.testing.assert_array_equal(np.concatenate(y1), raw["y1"][ids])
    np.testing.assert_array_equal(np.concatenate(labels), raw["label"][ids])


def _train_labels(tiny_dataset):
    path, manifest = tiny_dataset
    ids = split_ids(manifest["n"], manifest["seed"])["train"]
    _, labels = _collect(load(path, "y10", batch_size=32, shuffle=False, augment_images=False))
    return dict(zip(ids.tolist(), labels.tolist()))


def test_pick_labeled_takes_per_class_galaxies_of_the_split(tiny_dataset):
    path, _ = tiny_dataset
    label_of = _train_labels(tiny_dataset)
    smallest = min(list(label_of.values()).count(c) for c in (0, 1, 2))
    ids = pick_labeled(path, smallest, seed=1)
    assert [sum(label_of[i] == c for i in ids) for c in (0, 1, 2)] == [smallest] * 3
    assert np.array_equal(ids, pick_labeled(path, smallest, seed=1))  # seeded
    only = pick_labeled(path, 1, seed=1, classes=[2])
    assert len(only) == 1 and label_of[int(only[0])] == 2
    with pytest.raises(InvalidArgumentError, match="`per_class` exceeds"):
        pick_labeled(path, len(label_of) + 1)
    with pytest.raises(InvalidArgumentError, match="`classes`"):
        pick_labeled(path, 1, classes=[3])


def test_galaxy_ids_restrict_a_split_and_shuffle_seed_only_reorders(tiny_dataset):
    path, manifest = tiny_dataset
    label_of = _train_labels(tiny_dataset)
    chosen = sorted(label_of)[:3]
    images, labels = _collect(load(path, "y1", galaxy_ids=chosen + [
        int(split_ids(manifest["n"], manifest["seed"])["test"][0])], batch_size=8,
        shuffle=False, augment_images=False))
    assert labels.tolist() == [label_of[i] for i in chosen]  # the test galaxy is left out
    assert len(load(path, "y1", galaxy_ids=chosen, batch_size=1)) == 3
    # Repeated passes over the chosen galaxies (kept in memory) are augmented afresh.
    passes = list(load(path, "y1", galaxy_ids=chosen, batch_size=3, repeat=True).take(2))
    assert sorted(passes[0][1].numpy()) == sorted(passes[1][1].numpy())
    assert not np.array_equal(np.sort(passes[0][0].numpy(), axis=0),
                              np.sort(passes[1][0].numpy(), axis=0))
    first, second = (_collect(load(path, "y1", batch_size=16, shuffle_seed=s,
                                   augment_images=False))[0] for s in (7, 8))
    assert not np.array_equal(first, second)
    assert np.allclose(np.sort(first.reshape(len(first), -1), axis=0),
                       np.sort(second.reshape(len(second), -1), axis=0))


def test_pair_domains_keeps_target_labels_on_request():
    import tensorflow as tf

    source = tf.data.Dataset.from_tensor_slices((np.zeros((4, 2)), np.arange(4))).batch(2)
    target = tf.data.Dataset.from_tensor_slices((np.ones((2, 2)), np.array([-1, 1]))).batch(2)
    (xs, xt), (ys, yt) = next(iter(pair_domains(source, target, target_labels=True)))
    assert ys.numpy().tolist() == [0, 1] and yt.numpy().tolist() == [-1, 1]
    with pytest.raises(InvalidArgumentError, match="target_labels"):
        pair_domains(source, target.map(lambda x, y: x), target_labels=True)


def test_read_values_gives_the_stored_values_of_each_galaxy(tmp_path):
    from astrokeras.data import MorphologySimulation, write_dataset
    from astrokeras.data import read_values

    sim = MorphologySimulation(size=16, class_fractions=(1, 1, 1), morphometry=True)
    write_dataset(sim, 5, tmp_path, seed=2, shard_size=2)
    raw = simulate(sim, 5, seed=2)
    values = read_values(tmp_path)
    assert list(values) == ["galaxy_id", "label", "gini", "m20"]
    np.testing.assert_array_equal(values["galaxy_id"], np.arange(5))
    np.testing.assert_array_equal(values["label"], raw["label"])
    for name in ("gini", "m20"):
        assert values[name].dtype == np.float32
        np.testing.assert_array_equal(values[name], raw[name])
    test = read_values(tmp_path, split="test")
    np.testing.assert_array_equal(test["galaxy_id"], split_ids(5, 2)["test"])
    np.testing.assert_array_equal(test["gini"], raw["gini"][split_ids(5, 2)["test"]])


def test_read_values_without_values_and_bad_arguments(tiny_dataset):
    from astrokeras.data import read_values

    path, manifest = tiny_dataset
    values = read_values(path, split="validation")
    assert list(values) == ["galaxy_id", "label"]
    assert values["galaxy_id"].tolist() == split_ids(12, manifest["seed"])["validation"].tolist()
    with pytest.raises(InvalidArgumentError, match="`split`"):
        read_values(path, split="holdout")
    with pytest.raises(InvalidArgumentError, match="`seed`"):
        read_values(path, seed=-1)
