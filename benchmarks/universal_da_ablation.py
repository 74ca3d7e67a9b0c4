"""Universal-DA ablation: why the neighbourhood-clustering term loses to MMD on Y10 -> Y1.

Trains the recipe of `benchmarks/reproduce.py universal` (seed 0) with one change at a time,
through `astrokeras.experiments.run_recipe`, then measures on the Y1 test split, where class 2
(mergers) exists only in the target:

- `known`: known-class accuracy of `predict_open_set` (entropy rule, rho = log(K) / 2);
  `detected`: share of mergers predicted unknown; `known_rejected`: share of known galaxies
  predicted unknown.
- `auroc_entropy`: AUROC of the prediction entropy for "merger"; `auroc_cos`: AUROC of
  1 - the largest cosine similarity of a Y1 latent to the Y10 class means.
- `unk_pred_as`: mergers per predicted class; `unk_H_zero`: mergers with entropy < 1e-6;
  `H_known_q`, `H_unk_q`: entropy quantiles (0.5, 0.9 and 0.1, 0.5, 0.9) of known galaxies
  and mergers.
- On L2-normalised latents: `merger_neighbour_share`: share of a merger's 5 nearest Y1
  latents that are mergers (`chance` is the merger share); `known_same_label_share`: the
  same for known galaxies and their own label; `auroc_5nn_y10`: AUROC of the mean distance
  of a Y1 latent to its 5 nearest known Y10 latents.

Each run appends one JSON line to `<out>/results.jsonl` (rewritten atomically); its model goes
to `<out>/<name>`. A full run (12 epochs) takes 6.5 to 7.5 minutes on 2 shared CPU cores.

Usage:

    python benchmarks/universal_da_ablation.py NAME [--head dense|cosine] [--temperature T]
        [--method universal|mmd] [--weight W] [--margin M] [--bank N]
        [--bank-init random|zeros] [--dance] [--epochs E]
        [--data DIR] [--recipe RUN_JSON] [--out DIR]
    python benchmarks/universal_da_ablation.py NAME --eval-only --run-dir RUN_DIR

The rows of benchmarks/RESULTS.md (Reproduction, universal-DA findings; seed 0, 12 epochs):

    S=benchmarks/universal_da_ablation.py R=runs/reproduce/universal/seed0
    # MMD and UniversalDA: the seed-0 models of `benchmarks/reproduce.py universal`
    python $S existing_mmd --eval-only --run-dir $R/mmd
    python $S existing_universal --eval-only --run-dir $R/universal
    python $S dense_w0 --weight 0                # transfer weight 0
    python $S dense_w001 --weight 0.01           # clustering weight 0.01
    python $S dense_bank1024_zeros --bank 1024 --bank-init zeros
    python $S cos_univ --head cosine             # DANCE's cosine head
    python $S dance_cos --head cosine --dance --bank 1024 --bank-init zeros
    python $S margin_half_rho --margin 0.1733    # entropy separation on: rho / 2

(the last one, "entropy separation made active", was measured before this script's first
version and is not in its results; the neighbour figures of the seed-1 models come from
`--eval-only --run-dir runs/reproduce/universal/seed1/{mmd,universal}`).
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from astrokeras import load_model, losses  # noqa: E402
from astrokeras.evaluation import load_paired  # noqa: E402
from astrokeras.models.split import latent_output  # noqa: E402
from astrokeras.experiments import (ARCHITECTURES, METHODS, MODEL_FILE,  # noqa: E402
                                    clear_run, run_recipe, transfer_method)
from astrokeras.files import write_text_atomic  # noqa: E402
from astrokeras.training.methods import UniversalDA  # noqa: E402
from astrokeras.training.methods.universal_da import entropy_separation_loss  # noqa: E402
from reproduce import open_set_scores  # noqa: E402  (benchmarks/, the script's folder)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "runs/reproduce/data/morphology_n3000_s64"
RECIPE = ROOT / "runs/reproduce/universal/seed0/universal/run.json"
OUT = ROOT / "runs/universal_da_ablation"


def unit_rows(x):
    """Each row of `x` scaled to unit L2 length (a zero row stays zero)."""
    return x / ops.maximum(ops.norm(x, axis=-1, keepdims=True), 1e-12)


@keras.saving.register_keras_serializable(package="universal_da_ablation")
class CosineLogits(keras.layers.Layer):
    """DANCE's classifier head: cosine similarity of latent and class weights over T.

    Args:
        units: number of classes.
        temperature: divides the cosine similarities (0.05 in DANCE).
        **kwargs: base layer arguments.

    Example:

    >>> tuple(CosineLogits(2)(np.ones((3, 4), "float32")).shape)
    (3, 2)
    """

    def __init__(self, units, temperature=0.05, **kwargs):
        super().__init__(**kwargs)
        self.units, self.temperature = units, temperature

    def build(self, shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(shape[-1], self.units),
            initializer=keras.initializers.RandomNormal(stddev=0.01))

    def unit_kernel(self):
        """The class weight vectors, L2-normalised (columns)."""
        return self.kernel / ops.maximum(ops.norm(self.kernel, axis=0, keepdims=True), 1e-12)

    def call(self, x):
        return ops.matmul(unit_rows(x), self.unit_kernel()) / self.temperature

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, temperature=self.temperature)
        return config


@keras.saving.register_keras_serializable(package="universal_da_ablation")
class AblationUniversalDA(UniversalDA):
    """`UniversalDA` whose memory bank may start at zero (as DANCE's does).

    Args:
        bank_init: "random" (astrokeras' default) or "zeros".
        **kwargs: `UniversalDA` arguments.
    """

    def __init__(self, bank_init="random", **kwargs):
        super().__init__(**kwargs)
        self.bank_init = bank_init

    def build(self, latent_shape):
        super().build(latent_shape)
        if self.bank_init == "zeros":
            self.bank.assign(ops.zeros_like(self.bank))

    def get_config(self):
        return {**super().get_config(), "bank_init": self.bank_init}


@keras.saving.register_keras_serializable(package="universal_da_ablation")
class DanceNC(AblationUniversalDA):
    """Neighbourhood clustering as DANCE's code computes it (Saito et al. 2020).

    The softmax runs over [cosine(target, head weights) / head T, similarities to the bank,
    similarities to the other samples of the batch] / T, instead of bank and moving-average
    prototypes. Needs the model's `CosineLogits` head in `head` (set after construction).
    """

    head = None

    def call(self, source_latent, target_latent, target_probabilities=None,
             source_labels=None, training=None):
        t = unit_rows(ops.cast(target_latent, "float32"))
        T = self.temperature
        logits = ops.matmul(t, self.head.unit_kernel()) / self.head.temperature
        bank = ops.matmul(t, ops.transpose(self.bank)) / T
        inner = ops.matmul(t, ops.transpose(t)) / T
        inner = ops.where(ops.eye(ops.shape(t)[0]) > 0, -1.0 / T, inner)  # not itself
        sims = ops.concatenate([logits, bank, inner], axis=1)
        clustering = ops.mean(losses.entropy(ops.softmax(sims, axis=-1)))
        separation = entropy_separation_loss(target_probabilities, self.threshold, self.margin)
        if training:
            self._update_bank(ops.stop_gradient(t))
        return clustering + separation


# models saved by this script's scratch predecessor
LEGACY = {"uda_scratch>CosineLogits": CosineLogits, "uda_scratch>DanceNC": DanceNC}


def train(args, directory):
    """Trains the recipe with the ablation's changes into `directory` with `run_recipe`.

    The ablation's classifier (the recipe's architecture, with DANCE's cosine head if asked)
    and its universal-DA transfer loss are registered under names of their own for the call,
    so `run_recipe` builds them as it builds every registered architecture and method.
    """
    recipe = json.loads(Path(args.recipe).read_text())["recipe"]
    recipe["experiment"]["output"] = str(directory)
    recipe["data"]["directory"] = str(args.data)
    recipe["method"]["name"] = args.method
    if args.weight is not None:
        recipe["method"]["weight"] = args.weight
    if args.epochs:
        recipe["training"]["epochs"] = args.epochs
    heads = []
    architecture = ARCHITECTURES.get(recipe["model"]["architecture"])
    universal = METHODS.get("universal")

    def build_classifier(input_shape, num_classes, **options):
        classifier = architecture.factory(input_shape, num_classes, **options)
        if args.head == "dense":
            return classifier
        heads.append(CosineLogits(num_classes, args.temperature, name="logits"))
        logits = heads[-1](latent_output(classifier, "latent"))
        probabilities = keras.layers.Softmax(name="probabilities", dtype="float32")(logits)
        return keras.Model(classifier.input, probabilities, name=classifier.name)

    def build_method(options, context):
        extra = {"bank_size": args.bank, "margin": args.margin}
        method = (DanceNC if args.dance else AblationUniversalDA)(
            num_classes=context.num_classes, weight=options["weight"],
            bank_init=args.bank_init, **{k: v for k, v in extra.items() if v is not None})
        if args.dance:
            object.__setattr__(method, "head", heads[-1])  # not tracked: the model owns it
        return method

    ARCHITECTURES.register("ablation_classifier", build_classifier, schema=architecture.schema,
                           replace=True, **architecture.metadata)
    recipe["model"]["architecture"] = "ablation_classifier"
    if args.method == "universal":
        METHODS.register("ablation_universal", transfer_method(build_method),
                         schema=universal.schema, replace=True, **universal.metadata)
        recipe["method"]["name"] = "ablation_universal"
    try:
        clear_run(directory)
        run_recipe(recipe, output=directory, verbose=2)
    finally:
        ARCHITECTURES.unregister("ablation_classifier")
        METHODS.unregister("ablation_universal")


def evaluate(directory, data, name, unknown_class=2):
    """The open-set and latent-neighbour figures of the run in `directory` (see module doc).

    Args:
        directory: run directory holding `model.keras` (a `DomainAdaptationModel`).
        data: the paired dataset directory; its Y1 test split is evaluated.
        name: the row's name.
        unknown_class: the label present only in the target.

    Returns:
        A dict of figures, rounded to 3 decimals.
    """
    paired = load_paired(str(data), ["y10", "y1"], split="test")
    with keras.saving.custom_object_scope(LEGACY):
        model = load_model(Path(directory) / MODEL_FILE)
    scores = open_set_scores(model, paired, unknown_class)
    figures, labels, unk = scores["figures"], scores["labels"], scores["unknown"]
    probabilities, entropy, z10, z1 = (scores[k] for k in ("probabilities", "entropy", "z10",
                                                           "z1"))
    neighbours = NearestNeighbors(n_neighbors=6).fit(z1).kneighbors(z1)[1][:, 1:]  # not self
    to_y10 = NearestNeighbors(n_neighbors=5).fit(z10[~unk]).kneighbors(z1)[0].mean(1)
    k = probabilities.shape[1]
    return dict(
        name=name,
        known=round(figures["known_accuracy"], 3),
        detected=round(figures["unknown_detected"], 3),
        known_rejected=round(figures["known_rejected"], 3),
        auroc_entropy=round(figures["auroc_entropy"], 3),
        auroc_cos=round(figures["auroc_latent"], 3),
        unk_pred_as=np.bincount(probabilities[unk].argmax(1), minlength=k).tolist(),
        unk_H_zero=int((entropy[unk] < 1e-6).sum()),
        H_known_q=np.round(np.quantile(entropy[~unk], [.5, .9]), 3).tolist(),
        H_unk_q=np.round(np.quantile(entropy[unk], [.1, .5, .9]), 3).tolist(),
        merger_neighbour_share=round(float(np.mean(unk[neighbours][unk])), 3),
        known_same_label_share=round(
            float(np.mean((labels[neighbours] == labels[:, None])[~unk])), 3),
        auroc_5nn_y10=round(roc_auc_score(unk, to_y10), 3),
        chance=round(float(unk.mean()), 3))


def append_jsonl(path, row):
    """Appends `row` as one JSON line to `path`, rewriting the file atomically."""
    path = Path(path)
    text = (path.read_text() if path.exists() else "") + json.dumps(row) + "\n"
    write_text_atomic(path, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", help="row name; the run goes to <out>/<name>")
    parser.add_argument("--head", choices=("dense", "cosine"), default="dense",
                        help="classifier head: the recipe's Dense, or DANCE's cosine head")
    parser.add_argument("--temperature", type=float, default=0.05,
                        help="temperature of the cosine head")
    parser.add_argument("--method", choices=("universal", "mmd"), default="universal")
    parser.add_argument("--weight", type=float, help="transfer weight (default: the recipe's)")
    parser.add_argument("--margin", type=float, help="entropy-separation margin (default 0.5)")
    parser.add_argument("--bank", type=int, help="memory bank size (default 512)")
    parser.add_argument("--bank-init", choices=("random", "zeros"), default="random")
    parser.add_argument("--dance", action="store_true",
                        help="clustering as DANCE's code does it (needs --head cosine)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the recipe's, 12)")
    parser.add_argument("--data", type=Path, default=DATA, help="paired dataset directory")
    parser.add_argument("--recipe", type=Path, default=RECIPE,
                        help="run.json whose recipe is trained")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="runs and results.jsonl go here")
    parser.add_argument("--eval-only", action="store_true", help="evaluate, do not train")
    parser.add_argument("--run-dir", type=Path, help="run to evaluate (default <out>/<name>)")
    args = parser.parse_args()
    if args.dance and args.head != "cosine":
        parser.error("--dance needs --head cosine")
    directory = args.run_dir or args.out / args.name
    started = time.time()
    if not args.eval_only:
        train(args, directory)
    print("train seconds", round(time.time() - started, 1), flush=True)
    unknown = json.loads(Path(args.recipe).read_text())["recipe"]["data"]["unknown_class"]
    row = evaluate(directory, args.data, args.name, unknown)
    print("RESULT", json.dumps(row), flush=True)
    append_jsonl(args.out / "results.jsonl", row)


if __name__ == "__main__":
    main()
