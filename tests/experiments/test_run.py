import csv
import warnings

import keras
import numpy as np
import pytest

from astrokeras.experiments import run_recipe, validate_recipe


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from astrokeras.data import MorphologySimulation, write_dataset

    directory = tmp_path_factory.mktemp("morphology")
    write_dataset(MorphologySimulation(size=32), 80, directory, seed=2)
    return directory


def _recipe(dataset, tmp_path, method="none", epochs=3, unknown_class=-1, data=None,
            **method_options):
    return validate_recipe({
        "experiment": {"name": "t", "seed": 0, "output": str(tmp_path / "run")},
        "data": {"kind": "morphology", "directory": str(dataset), "unknown_class": unknown_class,
                 **(data or {})},
        "model": {"architecture": "convnet"},
        "method": {"name": method, **method_options},
        "training": {"epochs": epochs, "batch_size": 16},
    })


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_run_resumes_from_its_backup(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "mmd", epochs=4)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, verbose=0, extra_callbacks=[Interrupt(2)])
    run = tmp_path / "run"
    assert (run / "backup").exists() and not (run / "model.keras").exists()
    result = run_recipe(recipe, verbose=0)
    assert result.resumed
    assert len(result.history["loss"]) == 2  # epochs 2 and 3 only
    with open(run / "history.csv") as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == [0, 1, 2, 3]
    assert not (run / "backup").exists()
    assert isinstance(keras.models.load_model(run / "classifier.keras"), keras.Model)


@pytest.mark.parametrize("method", ["none", "dann", "fgsm"])
def test_each_kind_of_method_trains_and_saves(dataset, tmp_path, method):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_recipe(_recipe(dataset, tmp_path, method, epochs=1), verbose=0)
    # fit is given the arguments that fit a tf.data pipeline: no "`shuffle=True` ... ignored"
    assert not [w for w in caught if "shuffle" in str(w.message)]
    assert np.all(np.isfinite(result.history["loss"]))
    run = tmp_path / "run"
    for name in ("model.keras", "classifier.keras", "run.json", "history.csv"):
        assert (run / name).exists(), name
    assert any((run / "logs").rglob("*tfevents*"))


def test_universal_da_holds_the_unknown_class_out_of_the_source(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "universal", epochs=1, unknown_class=2)
    result = run_recipe(recipe, verbose=0)
    assert result.classifier.output.shape[-1] == 2


@pytest.mark.parametrize("method", ["mmd", "none"])
def test_every_method_holds_the_unknown_class_out_of_the_source(dataset, tmp_path, method):
    from astrokeras.experiments import build_datasets, ensure_dataset

    recipe = _recipe(dataset, tmp_path, method, epochs=1, unknown_class=1)
    manifest = ensure_dataset(recipe)
    train, validation, num_classes, counts, steps = build_datasets(recipe, manifest)
    assert num_classes == 2 and len(counts) == 2
    labels = np.concatenate([batch[1].numpy() for batch in train.take(steps)])
    assert set(labels) <= {0, 1}  # class 2 renumbered to 1, class 1 never seen
    per_class = manifest["counts"]["per_class"]
    assert counts == [per_class[manifest["classes"][0]], per_class[manifest["classes"][2]]]
    val_labels = np.concatenate([y.numpy() for _, y in validation])
    assert set(val_labels) <= {0, 1}


def test_semi_supervised_target_batches_carry_a_share_of_known_labels(dataset, tmp_path):
    from astrokeras.data import pick_labeled
    from astrokeras.training import UNLABELED
    from astrokeras.experiments import build_datasets, ensure_dataset

    recipe = _recipe(dataset, tmp_path, "universal", epochs=1, unknown_class=0,
                     data={"labeled_target": 2, "labeled_share": 0.5,
                           "target_labels": "semi-supervised"})
    manifest = ensure_dataset(recipe)
    train, _, num_classes, _, steps = build_datasets(recipe, manifest)
    source_labels, target_labels = [], []
    for (source, target), (ys, yt) in train.take(20):
        assert source.shape == target.shape
        source_labels.append(ys.numpy())
        target_labels.append(yt.numpy())
    source_labels, target_labels = np.concatenate(source_labels), np.concatenate(target_labels)
    assert num_classes == 2 and set(source_labels) <= {0, 1}
    # The held-out class 0 is never labeled; classes 1 and 2 become 0 and 1.
    assert set(target_labels) == {UNLABELED, 0, 1}
    share = np.mean(target_labels != UNLABELED)
    assert 0.4 < share < 0.6, share
    ids = pick_labeled(dataset, 2, seed=manifest["seed"], classes=[1, 2])
    assert len(ids) == 4


def test_labeled_target_needs_domain_adaptation(dataset, tmp_path):
    from astrokeras.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[data\].labeled_target needs"):
        _recipe(dataset, tmp_path, "none", data={"labeled_target": 2})


def test_semi_supervised_universal_da_trains(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "universal", epochs=1, unknown_class=2,
                     data={"labeled_target": 2, "target_labels": "semi-supervised"})
    result = run_recipe(recipe, verbose=0)
    assert np.all(np.isfinite(result.history["loss"]))


def test_unknown_class_outside_the_dataset_is_a_config_error(dataset, tmp_path):
    from astrokeras.errors import ConfigError
    from astrokeras.experiments import build_datasets, ensure_dataset

    recipe = _recipe(dataset, tmp_path, "mmd", epochs=1, unknown_class=3)
    with pytest.raises(ConfigError, match=r"\[data\].unknown_class 3 is not a class"):
        build_datasets(recipe, ensure_dataset(recipe))


def test_softening_of_an_existing_dataset_must_match_the_recipe(dataset, tmp_path):
    from astrokeras.errors import ConfigError
    from astrokeras.experiments import ensure_dataset

    recipe = _recipe(dataset, tmp_path)
    assert ensure_dataset(recipe)["preprocessing"]["c"] == 0.85  # softening None
    recipe["data"]["softening"] = 0.85
    ensure_dataset(recipe)
    recipe["data"]["softening"] = 0.001
    with pytest.raises(ConfigError, match=r"\[data\].softening = 0.001.*c = 0.85"):
        ensure_dataset(recipe)


@pytest.mark.parametrize("softening, expected", [(None, 0.001), (0.02, 0.02)])
def test_a_recipe_simulates_its_dataset_with_its_softening(tmp_path, softening, expected):
    from astrokeras.experiments import ensure_dataset

    recipe = validate_recipe({
        "experiment": {"name": "t", "seed": 0, "output": str(tmp_path / "run")},
        "data": {"kind": "photoz", "directory": str(tmp_path / "pz"), "n": 10, "size": 16,
                 **({} if softening is None else {"softening": softening})},
        "model": {"architecture": "simple_photoz_cnn"},
    })
    manifest = ensure_dataset(recipe)  # None: PhotoZSimulation.softening
    assert manifest["preprocessing"]["c"] == expected


@pytest.mark.parametrize("schedule, first, last", [
    ("constant", 1e-3, 1e-3),
    ("cosine", 1e-3, 1e-5),           # CosineDecay down to alpha = 1 % of the rate
    ("one_cycle", 1e-3 / 25, 4e-9),   # warm-up from max/25, anneal to max/25/1e4
])
def test_optimizer_schedule_follows_the_recipe(dataset, tmp_path, schedule, first, last):
    from astrokeras.experiments.optimizers import build_optimizer

    recipe = _recipe(dataset, tmp_path)
    recipe["optimizer"].update(schedule=schedule, learning_rate=1e-3)
    optimizer = build_optimizer(recipe, total_steps=100)
    assert float(optimizer.learning_rate) == pytest.approx(first, rel=1e-4)
    optimizer.iterations.assign(100)  # the rate the optimizer uses at the last step
    assert float(optimizer.learning_rate) == pytest.approx(last, rel=1e-3)


def test_a_selection_score_reaches_the_history_and_early_stopping(dataset, tmp_path):
    from astrokeras.data import load
    from astrokeras.experiments import selection_callback

    recipe = _recipe(dataset, tmp_path, "mmd", epochs=3)
    recipe["training"].update(monitor="val_snd", early_stopping_patience=5)
    target = load(dataset, "y1", "validation", batch_size=16).map(lambda x, y: x)
    # passed last, it still runs before the CSV logger and early stopping that read its score
    result = run_recipe(recipe, verbose=0, extra_callbacks=[selection_callback("snd", target)])
    assert len(result.history["val_snd"]) == 3
    with open(tmp_path / "run" / "history.csv") as handle:
        logged = [float(row["val_snd"]) for row in csv.DictReader(handle)]
    np.testing.assert_allclose(logged, result.history["val_snd"], rtol=1e-6)


def test_monitor_direction_follows_the_score():
    from astrokeras.experiments.run import monitor_mode

    assert monitor_mode("val_snd") == "max"  # higher soft neighbourhood density is better
    assert monitor_mode("val_dev") == "min"
    assert monitor_mode("val_target_accuracy") == "max"
    assert monitor_mode("val_loss") == "min"


def _validation_labels(validation):
    """Every label array a validation dataset's elements carry (the y of each element)."""
    labels = []
    for _, y in validation:
        labels.extend(y if isinstance(y, tuple) else (y,))
    return labels


@pytest.mark.parametrize("method", ["mmd", "none"])
def test_by_default_validation_carries_source_labels_only(dataset, tmp_path, method):
    from astrokeras.data import load
    from astrokeras.experiments import build_datasets, ensure_dataset

    recipe = _recipe(dataset, tmp_path, method, epochs=1)
    manifest = ensure_dataset(recipe)
    _, validation, *_ = build_datasets(recipe, manifest)
    source = load(dataset, "y10", "validation", batch_size=16)
    if method == "mmd":  # ((source images, target images), source labels)
        (images, target), labels = next(iter(validation))
        np.testing.assert_array_equal(
            target, next(iter(load(dataset, "y1", "validation", batch_size=16)))[0])
    else:  # the source validation split, not the target's
        images, labels = next(iter(validation))
    np.testing.assert_array_equal(images, next(iter(source))[0])
    np.testing.assert_array_equal(np.concatenate(_validation_labels(validation)),
                                  np.concatenate([y for _, y in source]))


def test_a_domain_adaptation_run_logs_label_free_validation_by_default(dataset, tmp_path):
    result = run_recipe(_recipe(dataset, tmp_path, "mmd", epochs=1), verbose=0)
    assert {"val_loss", "val_source_accuracy", "val_transfer_loss"} <= set(result.history)
    assert "val_target_accuracy" not in result.history


def test_target_labels_selection_is_the_explicit_oracle_selection(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "mmd", epochs=1, data={"target_labels": "selection"})
    recipe["training"].update(monitor="val_target_accuracy", early_stopping_patience=2)
    result = run_recipe(recipe, verbose=0)
    assert "val_target_accuracy" in result.history
    assert "val_source_accuracy" not in result.history


@pytest.mark.parametrize("method, monitor", [("mmd", "val_target_accuracy"),
                                             ("none", "val_target_accuracy")])
def test_a_monitor_reading_target_labels_needs_selection(dataset, tmp_path, method, monitor):
    from astrokeras.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[training\].monitor = 'val_target_accuracy' reads "
                                          r"target labels.*\[data\].target_labels = 'selection'"):
        validate_recipe({"experiment": {"name": "t"}, "data": {"directory": str(dataset)},
                         "method": {"name": method}, "training": {"monitor": monitor}})


@pytest.mark.parametrize("target_labels", ["none", "selection"])
def test_labeled_target_needs_target_labels_semi_supervised(dataset, tmp_path, target_labels):
    from astrokeras.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[data\].labeled_target = 2 .*\[data\]"
                                          r".target_labels = 'semi-supervised'"):
        _recipe(dataset, tmp_path, "mmd", data={"labeled_target": 2,
                                                "target_labels": target_labels})


@pytest.mark.parametrize("data, message", [
    ({"kind": "morphology", "target_labels": "semi-supervised"},
     r"'semi-supervised' needs \[data\].labeled_target > 0"),
    ({"kind": "photoz", "target_labels": "selection"}, r"'selection' needs a target domain"),
])
def test_a_target_labels_use_without_its_data_is_refused(tmp_path, data, message):
    from astrokeras.errors import ConfigError

    architecture = "convnet" if data["kind"] == "morphology" else "simple_photoz_cnn"
    with pytest.raises(ConfigError, match=message):
        validate_recipe({"experiment": {"name": "t"}, "model": {"architecture": architecture},
                         "data": {"directory": str(tmp_path), **data}})


def test_a_score_monitor_adds_its_selection_callback_and_stops_early(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "mmd", epochs=4)
    recipe["training"].update(monitor="val_dev", early_stopping_patience=1)
    result = run_recipe(recipe, verbose=0)
    values = result.history["val_dev"]
    assert np.all(np.isfinite(values)) and len(values) == len(result.history["loss"])
    # early stopping read val_dev: it stopped one epoch after the first epoch without a
    # lower DEV, or ran every epoch when DEV fell at each one
    worse = [i for i in range(1, len(values)) if values[i] >= min(values[:i])]
    assert len(values) == (worse[0] + 1 if worse else 4)
    with open(tmp_path / "run" / "history.csv") as handle:
        logged = [float(row["val_dev"]) for row in csv.DictReader(handle)]
    np.testing.assert_allclose(logged, values, rtol=1e-6)


def test_run_json_records_the_target_accuracy_as_an_oracle(dataset, tmp_path):
    import json

    from astrokeras.data import load

    result = run_recipe(_recipe(dataset, tmp_path, "mmd", epochs=1), verbose=0)
    oracle = json.loads((tmp_path / "run" / "run.json").read_text())["oracle"]
    images, labels = zip(*load(dataset, "y1", "validation", batch_size=16))
    predicted = np.argmax(result.classifier.predict(np.concatenate(images), verbose=0), -1)
    assert oracle == {"target_validation_accuracy": pytest.approx(
        np.mean(predicted == np.concatenate(labels)))}
