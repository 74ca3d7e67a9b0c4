"""Run an exported astrokeras ONNX model with ONNX Runtime, without TensorFlow."""

import json
import os

import numpy as np

from astrokeras.errors import DataError, InvalidArgumentError, check_positive_int
from astrokeras.export.metadata import ONNX_KEY, SCHEMA, bin_centers

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class OnnxPredictor:
    """Classify images or estimate photo-z PDFs with an ONNX model written by `to_onnx`.

    Loads the file into an ONNX Runtime session (the CUDA execution provider when this
    onnxruntime has it, else the CPU one) and reads the astrokeras metadata embedded in it:
    input names and shapes, band names, class names or redshift bins, and the clip + arcsinh
    stretch the model was trained on. `predict` checks every array against that metadata
    (number of dimensions, image size, band count, dtype, finite values) and raises
    `InvalidArgumentError` naming the argument, the shape received and the shape expected
    before running anything. Neither TensorFlow nor Keras is imported.

    Args:
        path: an .onnx file written by `astrokeras.export.to_onnx`.
        providers: ONNX Runtime execution providers, in order of preference; default
            `["CUDAExecutionProvider", "CPUExecutionProvider"]` when CUDA is available, else
            `["CPUExecutionProvider"]`.
        threads: intra-op threads of the session; default ONNX Runtime's (one per core).
        spinning: let idle intra-op threads spin-wait for work (ONNX Runtime's own default).
            Off by default here: survey pipelines share their nodes, and on a shared CPU
            spin-waiting threads burn cycles the neighbours (and the other thread) need.
            Measured on 2 shared cores (benchmarks/RESULTS.md, Serving, run 2): without
            spinning the batch-1 p99 was lower in 5 of 6 cases and the CPU time per image in
            4 of 6; batch-256 throughput changed within the machine's noise. `threads=1`
            without spinning gave the steadiest batch-1 latency. Set True on a dedicated,
            idle machine when the last fraction of a millisecond matters.

    Example:

    >>> import numpy as np, os, tempfile
    >>> from astrokeras.models import convnet
    >>> from astrokeras.export import to_onnx
    >>> path = os.path.join(tempfile.mkdtemp(), "convnet.onnx")
    >>> _ = to_onnx(convnet((16, 16, 3)), path)
    >>> predictor = OnnxPredictor(path)
    >>> predictor.predict(np.zeros((5, 16, 16, 3), "float32")).shape
    (5, 3)
    """

    def __init__(self, path, providers=None, threads=None, spinning=False):
        import onnxruntime as ort

        if not isinstance(path, (str, os.PathLike)):
            raise InvalidArgumentError("`path` must be a path to an .onnx file.", path,
                                       "str | pathlib.Path")
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No such ONNX file: {path}")
        available = ort.get_available_providers()
        if providers is None:
            providers = [CUDA, CPU] if CUDA in available else [CPU]
        else:
            providers = [providers] if isinstance(providers, str) else list(providers)
            unknown = [p for p in providers if p not in available]
            if not providers or unknown:
                raise InvalidArgumentError("`providers` names execution providers this "
                                           "onnxruntime does not have.", providers, available)
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = check_positive_int("threads", threads)
        if not isinstance(spinning, (bool, np.bool_)):
            raise InvalidArgumentError("`spinning` must be a bool.", spinning, "True or False")
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(path, sess_options=options,
                                                 providers=providers)
        except Exception as error:  # onnxruntime raises its own Fail / InvalidProtobuf types
            raise DataError(f"Cannot load {path} with ONNX Runtime: {error}", path) from None
        text = self._session.get_modelmeta().custom_metadata_map.get(ONNX_KEY)
        if text is None:
            raise DataError(f"{path} carries no astrokeras metadata (key {ONNX_KEY!r}); "
                            "export it with astrokeras.export.to_onnx.", path)
        meta = json.loads(text)
        if meta.get("schema") != SCHEMA:
            raise DataError(f"{path} has astrokeras metadata of an unknown schema.",
                            meta.get("schema"), SCHEMA)
        self.path = path
        self.metadata = meta
        self._inputs = {spec["name"]: tuple(spec["shape"][1:]) for spec in meta["inputs"]}
        self._outputs = [o.name for o in self._session.get_outputs()]
        self._stretch = None
        if meta.get("preprocessing"):
            from astrokeras.data.preprocessing import ClipArcsinh

            self._stretch = ClipArcsinh.from_config(meta["preprocessing"])

    @property
    def providers(self):
        """The execution providers the session uses."""
        return self._session.get_providers()

    @property
    def input_names(self):
        """Model input names ("image", and "ebv" for photo-z models)."""
        return list(self._inputs)

    @property
    def output_names(self):
        """Model output names, e.g. ["probabilities", "latent"]."""
        return list(self._outputs)

    @property
    def image_shape(self):
        """(height, width, bands) of one input image."""
        return self._inputs["image"] if "image" in self._inputs else \
            next(iter(self._inputs.values()))

    @property
    def bands(self):
        """Band name of each image channel, or None if the export did not record them."""
        return self.metadata.get("bands")

    @property
    def task(self):
        """"classification" or "photoz"."""
        return self.metadata["task"]

    @property
    def class_names(self):
        """Class names (classification), else None."""
        return self.metadata.get("class_names")

    @property
    def redshift_bin_centers(self):
        """Centres of the photo-z output bins (photoz), else None."""
        bins = self.metadata.get("redshift_bins")
        return None if bins is None else bin_centers(bins)

    @property
    def needs_ebv(self):
        """Whether the model takes the reddening E(B-V) as a second input."""
        return "ebv" in self._inputs

    @property
    def preprocessing(self):
        """The `ClipArcsinh` the model expects, or None."""
        return self._stretch

    @property
    def preprocessing_in_graph(self):
        """Whether the ONNX graph applies the stretch itself (it then takes raw images)."""
        return bool(self.metadata.get("preprocessing_in_graph", False))

    def check(self, x, ebv=None):
        """Validate and convert inputs; returns a feed dict of float32 arrays.

        Args:
            x: images (batch, height, width, bands), or a dict {"image": ..., "ebv": ...}.
            ebv: E(B-V) per image, shape (batch,) or (batch, 1), for photo-z models with an
                "ebv" input.

        Returns:
            {input name: float32 array}.

        Raises:
            InvalidArgumentError: wrong number of dimensions, image size, band count or
                dtype, non-finite values, or a missing / unexpected E(B-V).
        """
        if isinstance(x, dict):
            unknown = sorted(set(x) - set(self._inputs))
            if unknown:
                raise InvalidArgumentError("`x` has keys that are not model inputs.", unknown,
                                           self.input_names)
            if ebv is not None and "ebv" in x:
                raise InvalidArgumentError("E(B-V) given twice, in `x` and as `ebv`.",
                                           "both", "one of them")
            ebv = x.get("ebv", ebv)
            x = x.get("image")
            if x is None:
                raise InvalidArgumentError("`x` has no 'image' entry.", "missing", "'image'")
        image_name = "image" if "image" in self._inputs else self.input_names[0]
        feeds = {image_name: self._check_array("x", x, self.image_shape, self._band_text())}
        if self.needs_ebv:
            if ebv is None:
                raise InvalidArgumentError(
                    "This photo-z model takes E(B-V) as a second input; pass `ebv`.", None,
                    f"an array of shape ({len(feeds[image_name])},) or "
                    f"({len(feeds[image_name])}, 1)")
            ebv = np.asarray(ebv)
            if ebv.ndim == 1:
                ebv = ebv[:, None]
            feeds["ebv"] = self._check_array("ebv", ebv, self._inputs["ebv"], "E(B-V)")
            if len(feeds["ebv"]) != len(feeds[image_name]):
                raise InvalidArgumentError("`ebv` needs one value per image.",
                                           len(feeds["ebv"]), len(feeds[image_name]))
        elif ebv is not None:
            raise InvalidArgumentError("This model has no E(B-V) input.", "ebv given",
                                       "ebv=None")
        return feeds

    def predict(self, x, ebv=None, batch_size=256, preprocess=None, return_latent=False):
        """Class probabilities (or redshift PDFs) for a batch of images.

        Args:
            x: images (batch, height, width, bands), any real dtype (cast to float32), or a
                dict {"image": ..., "ebv": ...}.
            ebv: E(B-V) per image for photo-z models with an "ebv" input.
            batch_size: images per ONNX Runtime call (memory is bounded by it).
            preprocess: whether `x` holds raw images (electrons per second) that need the
                metadata's clip + arcsinh stretch. True: the stretch is applied, here in
                NumPy or, for an export with the stretch in its graph, by the graph; raises
                if the export recorded no preprocessing. False: `x` is already stretched
                (refused for an export that stretches in its graph). None (default): True
                for an export with the stretch in its graph, else False.
            return_latent: also return the latent vectors (needs a "latent" output).

        Returns:
            probabilities (batch, classes or bins), float32; with `return_latent`, the pair
            (probabilities, latent).

        Raises:
            InvalidArgumentError: bad shape, band count, dtype or argument (see `check`).
        """
        batch_size = check_positive_int("batch_size", batch_size)
        if preprocess is None:
            preprocess = self.preprocessing_in_graph
        if preprocess and self._stretch is None:
            raise InvalidArgumentError(
                "`preprocess=True` but the export recorded no preprocessing (export with "
                "model_metadata(..., preprocessing=...) or a dataset manifest).", preprocess,
                "preprocess=False for already-stretched images")
        if not preprocess and self.preprocessing_in_graph:
            raise InvalidArgumentError(
                f"{self.path} stretches its inputs in its graph: give raw images.", preprocess,
                "preprocess=None or True")
        wanted = ["probabilities"]
        if return_latent:
            wanted.append("latent")
        missing = [name for name in wanted if name not in self._outputs]
        if missing:
            raise InvalidArgumentError(f"The model has no output {missing[0]!r}.", missing[0],
                                       self._outputs)
        feeds = self.check(x, ebv)
        image_name = next(iter(feeds))
        if preprocess and not self.preprocessing_in_graph:
            feeds[image_name] = self._stretch(feeds[image_name])
        count = len(feeds[image_name])
        results = [[] for _ in wanted]
        for start in range(0, count, batch_size):
            chunk = {k: v[start:start + batch_size] for k, v in feeds.items()}
            for store, value in zip(results, self._session.run(wanted, chunk)):
                store.append(value)
        arrays = [np.concatenate(r) if r else np.zeros((0,) + self._output_shape(n), np.float32)
                  for r, n in zip(results, wanted)]
        return tuple(arrays) if return_latent else arrays[0]

    def redshift_summary(self, pdf):
        """Point estimates and widths of photo-z PDFs (one row per object).

        Args:
            pdf: (batch, bins) probabilities from `predict` on a photo-z model.

        Returns:
            A dict of (batch,) float arrays: "z_phot" (the PDF mean, Pasquet et al. 2019),
            "z_mode" (centre of the most probable bin), "z_sigma" (PDF standard deviation),
            "z_p16", "z_p50", "z_p84" (percentiles of the binned PDF, bin centres).
        """
        centers = self.redshift_bin_centers
        if centers is None:
            raise InvalidArgumentError("`redshift_summary` needs a photo-z model.", self.task,
                                       "task 'photoz'")
        pdf = np.asarray(pdf, np.float64)
        if pdf.ndim != 2 or pdf.shape[1] != len(centers):
            raise InvalidArgumentError("`pdf` must be (batch, bins).", pdf.shape,
                                       f"(batch, {len(centers)})")
        pdf = pdf / np.maximum(pdf.sum(axis=1, keepdims=True), 1e-30)
        mean = pdf @ centers
        sigma = np.sqrt(np.maximum(pdf @ centers ** 2 - mean ** 2, 0.0))
        cdf = np.cumsum(pdf, axis=1)

        def percentile(q):
            return centers[np.minimum((cdf < q).sum(axis=1), len(centers) - 1)]

        return {"z_phot": mean, "z_mode": centers[pdf.argmax(axis=1)], "z_sigma": sigma,
                "z_p16": percentile(0.16), "z_p50": percentile(0.5), "z_p84": percentile(0.84)}

    def _output_shape(self, name):
        for spec in self.metadata["outputs"]:
            if spec["name"] == name:
                return tuple(spec["shape"][1:])
        return ()  # pragma: no cover

    def _band_text(self):
        bands = self.bands
        return f"{len(bands)} bands ({', '.join(bands)})" if bands else \
            f"{self.image_shape[-1]} bands"

    def _check_array(self, name, array, shape, what):
        array = np.asarray(array)
        expected = "(batch, " + ", ".join(str(d) for d in shape) + ")"
        if array.dtype.kind not in "fiu" or array.dtype.kind == "b":
            raise InvalidArgumentError(f"`{name}` must hold real numbers.", str(array.dtype),
                                       "a float or integer dtype (cast to float32)")
        if array.ndim != len(shape) + 1:
            hint = " (add a batch axis: x[None])" if array.ndim == len(shape) else ""
            raise InvalidArgumentError(f"`{name}` must have {len(shape) + 1} dimensions"
                                       f"{hint}.", array.shape, expected)
        if len(shape) == 3 and array.shape[-1] != shape[-1]:
            raise InvalidArgumentError(
                f"`{name}` has {array.shape[-1]} bands; the model expects {what}. Images are "
                "channels-last: (batch, height, width, bands).", array.shape, expected)
        if tuple(array.shape[1:]) != tuple(shape):
            raise InvalidArgumentError(f"`{name}` has the wrong shape.", array.shape, expected)
        array = np.ascontiguousarray(array, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.",
                                       f"{int((~np.isfinite(array)).sum())} non-finite values",
                                       "finite values")
        return array
