import json

from typer.testing import CliRunner

from astrokeras.cli.app import app

runner = CliRunner()


def test_simulate_morphology_writes_a_dataset_and_show_draws_it(tmp_path):
    out = tmp_path / "set"
    result = runner.invoke(app, ["simulate", "morphology", "--n", "6", "--out", str(out),
                                 "--size", "24", "--seed", "3", "--workers", "1",
                                 "--shard-size", "4", "--class-fractions", "1,1,1",
                                 "--morphometry"])
    assert result.exit_code == 0, result.output
    assert "Dataset complete" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n"] == 6 and manifest["seed"] == 3
    assert manifest["image_shape"] == [24, 24, 3]
    assert manifest["counts"]["per_class"] == {"spiral": 2, "elliptical": 2, "merger": 2}

    result = runner.invoke(app, ["simulate", "show", str(out), "--per-class", "2"])
    assert result.exit_code == 0, result.output
    png = out / "examples.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "examples_gm20.png").exists()
    assert result.output.splitlines() == [f"Wrote {out / 'examples.png'}",
                                          f"Wrote {out / 'examples_gm20.png'}"]


def test_shard_index_run_leaves_the_manifest_to_the_last_part(tmp_path):
    out = tmp_path / "part"
    result = runner.invoke(app, ["simulate", "morphology", "--n", "4", "--out", str(out),
                                 "--size", "16", "--workers", "1", "--shard-size", "2",
                                 "--shard-index", "1", "--num-shards", "2"])
    assert result.exit_code == 0, result.output
    assert "part 1 of 2" in result.output
    assert not (out / "manifest.json").exists()


def test_bad_option_is_one_line_error_without_traceback(tmp_path):
    result = runner.invoke(app, ["simulate", "morphology", "--n", "4", "--out",
                                 str(tmp_path / "x"), "--size", "8"])
    assert result.exit_code == 1
    assert "`size`" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()

    result = runner.invoke(app, ["simulate", "morphology", "--n", "4", "--out",
                                 str(tmp_path / "x"), "--class-fractions", "1,2"])
    assert result.exit_code == 1 and "--class-fractions" in result.output


def test_show_on_a_missing_dataset_fails_cleanly(tmp_path):
    result = runner.invoke(app, ["simulate", "show", str(tmp_path)])
    assert result.exit_code == 1
    assert "manifest" in result.output


def test_show_with_a_bad_per_class_is_one_line_naming_it(tmp_path):
    result = runner.invoke(app, ["simulate", "show", str(tmp_path), "--per-class", "0"])
    assert result.exit_code == 1
    assert "`per_class`" in result.output and "Traceback" not in result.output


def test_simulate_deepmerge_and_photoz(tmp_path):
    result = runner.invoke(app, ["simulate", "deepmerge", "--n", "2", "--out",
                                 str(tmp_path / "dm"), "--size", "20", "--workers", "1"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "dm" / "manifest.json").read_text())
    assert manifest["domains"] == ["psf", "noisy"] and manifest["kind"] == "deepmerge"

    result = runner.invoke(app, ["simulate", "photoz", "--n", "2", "--out",
                                 str(tmp_path / "pz"), "--size", "16", "--workers", "1",
                                 "--num-bins", "10", "--z-range", "0,0.5"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "pz" / "manifest.json").read_text())
    assert manifest["bands"] == ["u", "g", "r", "i", "z"]
    assert manifest["simulation"]["num_bins"] == 10
    result = runner.invoke(app, ["simulate", "show", str(tmp_path / "pz"), "--per-class", "2",
                                 "--out", str(tmp_path / "pz.png")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"Wrote {tmp_path / 'pz.png'}"]  # no Gini-M20
    assert (tmp_path / "pz.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_softening_defaults_per_kind_is_stored_and_is_checked_before_simulating(tmp_path):
    def simulate(name, *options):
        result = runner.invoke(app, ["simulate", "photoz", "--n", "2", "--out",
                                     str(tmp_path / name), "--size", "16", "--workers", "1",
                                     "--num-bins", "10", *options])
        assert result.exit_code == 0, result.output
        return json.loads((tmp_path / name / "manifest.json").read_text())["preprocessing"]

    assert simulate("default")["c"] == 0.001  # PhotoZSimulation.softening
    assert simulate("given", "--softening", "0.02")["c"] == 0.02

    result = runner.invoke(app, ["simulate", "photoz", "--n", "2", "--out",
                                 str(tmp_path / "bad"), "--size", "16", "--softening", "0"])
    assert result.exit_code == 1
    assert "softening" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "bad").exists()  # refused before any work


def test_every_dataset_command_takes_the_shared_options_and_its_own():
    own = {"morphology": "--morphometry", "deepmerge": "--exposure", "photoz": "--num-bins"}
    for kind, option in own.items():
        result = runner.invoke(app, ["simulate", kind, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        for shared in ("--n ", "--out", "--seed", "--workers", "--shard-index", "--num-shards",
                       "--shard-size", "--softening", option):
            assert shared in result.output, (kind, shared)
        assert f"data/{kind}" in result.output  # --out's default names the kind
