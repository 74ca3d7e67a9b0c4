"""The `astrokeras` typer application.

Commands are added by the modules of this package (simulate, train, evaluate, attack, export,
predict) as they land; this module only assembles them and handles `--version`. Before it
imports them it sets the environment TensorFlow reads when it is first imported
(`astrokeras.cli._environment`), keeping any value the user set.
"""

from typing import Annotated, Optional

import typer

from astrokeras import __version__
from astrokeras.cli._environment import quiet_tensorflow

# Before the command modules: TensorFlow reads its environment when it is first imported.
quiet_tensorflow()

from astrokeras.cli.simulate import simulate_app  # noqa: E402
from astrokeras.cli.attack import attack  # noqa: E402
from astrokeras.cli.evaluate import evaluate  # noqa: E402
from astrokeras.cli.export import export  # noqa: E402
from astrokeras.cli.predict import predict  # noqa: E402
from astrokeras.cli.train import train  # noqa: E402
from astrokeras.cli.tune import tune  # noqa: E402

app = typer.Typer(
    name="astrokeras",
    help="Deep learning on astronomical survey images that stays correct when the data shifts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool):
    if value:
        typer.echo(f"astrokeras {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the astrokeras version and exit.",
        ),
    ] = None,
):
    """Simulate survey images, train robust models, attack, evaluate and export them."""


@app.command("info")
def info():
    """Show the versions of astrokeras and the libraries it runs on."""
    import importlib.metadata as metadata

    typer.echo(f"astrokeras {__version__}")
    for package in ("tensorflow", "keras", "galsim", "numpy", "onnx", "tf2onnx", "onnxruntime"):
        try:
            typer.echo(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            typer.echo(f"{package} not installed")


app.command("attack")(attack)
app.command("evaluate")(evaluate)
app.command("export")(export)
app.command("predict")(predict)
app.command("train")(train)
app.command("tune")(tune)


app.add_typer(simulate_app, name="simulate")


def main():
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
