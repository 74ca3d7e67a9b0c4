"""Atomic writers: the destination holds the old or the new content, never a partial one."""

import json
import os

import numpy as np
import pytest

from astrokeras.files import (atomic_directory, atomic_path, write_json_atomic,
                              write_text_atomic)


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as temporary:
            with open(temporary, "w") as handle:
                handle.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_temporary_keeps_the_suffix_so_numpy_does_not_rename_it(tmp_path):
    path = tmp_path / "adversarial.npz"
    with atomic_path(path) as temporary:
        np.savez(temporary, x=np.arange(3))
    with np.load(path) as archive:
        np.testing.assert_array_equal(archive["x"], np.arange(3))
    assert os.listdir(tmp_path) == ["adversarial.npz"]


def test_json_converts_numpy_values(tmp_path):
    path = write_json_atomic(tmp_path / "a" / "run.json",
                             {"n": np.int64(3), "acc": np.float32(0.5), "v": np.arange(2)})
    assert json.loads(path.read_text()) == {"n": 3, "acc": 0.5, "v": [0, 1]}
    assert path.read_text().endswith("}\n")


def test_text_replaces_existing_content(tmp_path):
    path = tmp_path / "r.md"
    write_text_atomic(path, "one")
    write_text_atomic(path, "two")
    assert path.read_text() == "two"


def test_directory_swap_keeps_old_folder_on_failure(tmp_path):
    target = tmp_path / "export"
    with atomic_directory(target) as folder:
        (open(os.path.join(folder, "a"), "w")).close()
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as folder:
            raise RuntimeError("interrupted")
    assert sorted(os.listdir(target)) == ["a"]
    assert sorted(os.listdir(tmp_path)) == ["export"]
