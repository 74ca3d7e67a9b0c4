"""metrics.json and report.md: the written record of an evaluation."""

import json
import os
from pathlib import Path

import numpy as np

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation.robustness import markdown_tables
from astrokeras.evaluation.shift_diagnostics import shift_table
from astrokeras.files import write_text_atomic


def write_metrics(path, summary):
    """Write a summary dict as indented JSON, atomically (temporary file, then rename).

    NumPy scalars and arrays are converted to plain Python; NaN is refused by `json`.

    Args:
        path: the file to write (e.g. `out/metrics.json`).
        summary: a JSON-ready dict (e.g. `robustness_summary(...)`).

    Returns:
        The `Path` written.

    Example:

    >>> import tempfile, json, pathlib
    >>> path = write_metrics(pathlib.Path(tempfile.mkdtemp()) / "m.json", {"a": np.float32(1)})
    >>> json.loads(path.read_text())
    {'a': 1.0}
    """
    path = Path(path)
    text = json.dumps(summary, indent=2, default=_plain, allow_nan=False)
    write_text_atomic(path, text + "\n")
    return path


def write_report(path, summary, figures=None, title="astrokeras robustness evaluation",
                 notes=None):
    """Write report.md: the tables of a robustness summary with their plots beside them.

    The report reads on its own: what was evaluated (models, domains, galaxies), Table 2
    (classification metrics per model and domain), Table 3 (latent distances, one-pixel attack,
    Jensen-Shannon distances) of Ciprijanovic et al. 2022, the label-free shift diagnostics
    when the summary has them (`shift_table`), and every figure under its caption, two per
    row. Written atomically.

    Args:
        path: the report file (e.g. `out/report.md`); figures are linked relative to its folder.
        summary: a `robustness_summary` dict (with optional `base_domain`, `galaxies`,
            `shift_diagnostics` and `photoz` entries).
        figures: a list of `(caption, png_path)` pairs, or None.
        title: the report's heading.
        notes: optional list of extra lines (e.g. the command line that made it).

    Returns:
        The `Path` written.

    Example:

    >>> import tempfile, pathlib
    >>> from astrokeras.evaluation import robustness_summary
    >>> m = {"a": {"y10": {"accuracy": 0.5}}}
    >>> path = write_report(pathlib.Path(tempfile.mkdtemp()) / "report.md",
    ...                     robustness_summary(m, {}))
    >>> "| a | y10 | 0.5000 |" in path.read_text()
    True
    """
    path = Path(path)
    figures = list(figures or [])
    for entry in figures:
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise InvalidArgumentError("`figures` must hold (caption, path) pairs.", entry,
                                       "(caption, png_path)")
    lines = [f"# {title}", ""]
    models = ", ".join(f"`{m}`" for m in summary.get("models", []))
    facts = [f"Models: {models}."]
    if "base_domain" in summary:
        facts.append(f"Base domain: `{summary['base_domain']}`.")
    if "galaxies" in summary:
        facts.append(f"Galaxies: {summary['galaxies']}.")
    lines += [" ".join(facts), ""]
    lines += [f"- {note}" for note in notes or []]
    if notes:
        lines.append("")
    if summary.get("table2"):
        lines += [_READING, "", markdown_tables(summary)]
        lines += _confusion_matrices(summary.get("metrics", {}))
    if summary.get("shift_diagnostics"):
        lines += shift_table(summary["shift_diagnostics"], summary.get("base_domain", "source"))
    if summary.get("photoz"):
        lines += _photoz_table(summary["photoz"])
    if figures:
        lines += ["## Figures", "", "<table>"]
        for start in range(0, len(figures), 2):
            lines.append("<tr>")
            for caption, figure in figures[start:start + 2]:
                relative = os.path.relpath(Path(figure), path.parent)
                lines.append(f'<td><img src="{relative}" width="420"><br>{caption}</td>')
            lines.append("</tr>")
        lines += ["</table>", ""]
    write_text_atomic(path, "\n".join(lines))
    return path


_READING = (
    "How to read it (Ciprijanovic et al. 2022): Table 2 gives each model's classification "
    "metrics on the base domain and on the perturbed ones (precision, recall and F1 weighted by "
    "true instances per class; multi-class Brier score, lower is better; one-vs-rest ROC AUC). "
    "Table 3 gives how far each perturbation moves a galaxy in the model's latent space "
    "(Euclidean distance between the embeddings of a base image and its perturbed twin); the "
    "attack rows count correctly classified base images whose decision the attack flipped, "
    "and for the one-pixel attack the generations of differential evolution it needed (more is "
    "more robust). The Jensen-Shannon distance (base 2, in [0, 1]) compares two distance "
    "distributions on shared bins: 0 identical, 1 disjoint.")


def _confusion_matrices(metrics):
    lines = []
    for name, domains in metrics.items():
        for domain, values in domains.items():
            matrix = values.get("confusion_matrix") if isinstance(values, dict) else None
            if not matrix:
                continue
            names = values.get("class_names") or [str(k) for k in range(len(matrix))]
            if not lines:
                lines += ["### Confusion matrices (rows: true class, columns: predicted)", ""]
            lines += [f"{name} on {domain}:", "",
                      "| true \\ predicted | " + " | ".join(names) + " |",
                      "|---" * (len(names) + 1) + "|"]
            lines += [f"| {names[i]} | " + " | ".join(str(v) for v in row) + " |"
                      for i, row in enumerate(matrix)]
            lines.append("")
    return lines


def _photoz_table(photoz):
    lines = ["### Photometric redshifts (Campagne 2021, Tables 1-3)", "",
             "| Model | Data | Estimate | N | Bias | sigma_MAD | eta |", "|---|---|---|---|---|---|---|"]
    for name, per in photoz.items():
        for data, estimates in per.items():
            for estimate, m in estimates.items():
                lines.append(f"| {name} | {data} | {estimate} | {m['n']} | {m['bias']:.5f} | "
                             f"{m['sigma_mad']:.5f} | {m['eta']:.4f} |")
    return lines + [""]


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
