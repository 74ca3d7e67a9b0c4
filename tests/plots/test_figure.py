import os

import pytest

from astrokeras.plots import _figure


def test_save_writes_into_a_new_folder_and_leaves_no_temporary(tmp_path):
    figure, ax = _figure.new_figure()
    ax.plot([0, 1], [1, 0])
    path = tmp_path / "new" / "plot.png"
    assert _figure.save(figure, path) == os.fspath(path)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert os.listdir(tmp_path / "new") == ["plot.png"]


def test_a_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "plot.png"
    path.write_bytes(b"previous")
    figure, _ = _figure.new_figure()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    figure.savefig = fail
    with pytest.raises(RuntimeError, match="disk full"):
        _figure.save(figure, path)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["plot.png"]
