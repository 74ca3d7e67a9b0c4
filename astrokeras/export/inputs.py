"""Readers of the inputs of `predict_files`: FITS cutouts, .npy / .npz arrays, TFRecord shards.

Each reader yields `Chunk`s of at most `chunk_size` objects and raises `DataError` naming the
file when it cannot be used (unreadable, corrupt, wrong shape, missing E(B-V)).

- FITS (`.fits`, `.fit`, `.fts`, optionally `.gz`): one cutout per file, read with astropy:
  the first HDU with 2-D or 3-D data. A cube is (bands, height, width) as FITS stores it
  (NAXIS3 = bands) or (height, width, bands); a 2-D image is one band. The object id is the
  file name without its suffix; photo-z models read E(B-V) from the header keyword `EBV`.
- `.npy`: one array (n, height, width, bands) or one image (height, width, bands), memory
  mapped and read `chunk_size` images at a time; ids "<file stem>:<index>". Not for photo-z
  models with an E(B-V) input (use .npz).
- `.npz`: arrays `x` (or `image`) of images, `ebv` for photo-z models and optionally `ids`.
- `.tfrecord`: a shard written by `astrokeras.data.write_dataset`, read with the
  `manifest.json` of its folder; ids are the galaxy ids, E(B-V) the stored value, the images
  those of `domain` (the manifest's first domain by default), in electrons per second.
- A folder: its `manifest.json` shards if it has one, else its files of the types above.
"""

import dataclasses
import glob
import json
import os
import warnings

import numpy as np

from astrokeras.errors import AstroKerasError, DataError

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
SUFFIXES = FITS_SUFFIXES + (".npy", ".npz", ".tfrecord")


@dataclasses.dataclass
class Chunk:
    """Objects read from one input file: ids, images and (photo-z) E(B-V)."""

    source: str
    ids: list
    image: np.ndarray
    ebv: np.ndarray = None


def expand(inputs):
    """Input paths with folders replaced by their shards or files (sorted); keeps order."""
    paths = []
    for path in inputs:
        path = os.fspath(path)
        if os.path.isdir(path):
            if os.path.isfile(os.path.join(path, "manifest.json")):
                paths.extend(sorted(glob.glob(os.path.join(path, "shard-*.tfrecord"))))
            else:
                paths.extend(sorted(os.path.join(path, name) for name in os.listdir(path)
                                    if name.lower().endswith(SUFFIXES)))
        else:
            paths.append(path)
    return paths


def read(path, image_shape, needs_ebv, chunk_size, domain=None):
    """Yield `Chunk`s from one input file (dispatch on the suffix)."""
    name = path.lower()
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file.", path)
    if name.endswith(FITS_SUFFIXES):
        yield read_fits(path, image_shape, needs_ebv)
    elif name.endswith(".npy"):
        yield from read_npy(path, image_shape, needs_ebv, chunk_size)
    elif name.endswith(".npz"):
        yield from read_npz(path, image_shape, needs_ebv, chunk_size)
    elif name.endswith(".tfrecord"):
        yield from read_shard(path, image_shape, needs_ebv, chunk_size, domain)
    else:
        raise DataError(f"{path}: unknown input type (suffix).", os.path.basename(path),
                        ", ".join(SUFFIXES))


def read_fits(path, image_shape, needs_ebv):
    """One cutout from a FITS file as a `Chunk` of one object."""
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            # A damaged file fails below with one clear error; astropy's repair warnings
            # about it would only repeat that.
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False) as hdus:
                hdu = next((h for h in hdus if h.data is not None and h.data.ndim in (2, 3)),
                           None)
                if hdu is None:
                    raise DataError(f"{path}: no HDU holds a 2-D or 3-D image.", path,
                                    "a cutout (bands, height, width)")
                data = np.asarray(hdu.data)
                ebv = hdu.header.get("EBV", hdus[0].header.get("EBV"))
    except AstroKerasError:
        raise
    except Exception as error:  # astropy raises OSError, ValueError, TypeError, VerifyError
        raise DataError(f"{path}: cannot read as FITS ({type(error).__name__}: {error}).",
                        os.path.basename(path)) from None
    image = _to_channels_last(path, data, image_shape)
    chunk = Chunk(path, [_stem(path)], image[None])
    if needs_ebv:
        if ebv is None:
            raise DataError(f"{path}: the photo-z model needs E(B-V), but the header has no "
                            "EBV keyword.", None, "header keyword EBV")
        try:
            chunk.ebv = np.array([[float(ebv)]], np.float32)
        except (TypeError, ValueError):
            raise DataError(f"{path}: header keyword EBV is not a number.", ebv,
                            "a float") from None
    return chunk


def read_npy(path, image_shape, needs_ebv, chunk_size):
    if needs_ebv:
        raise DataError(f"{path}: the photo-z model needs E(B-V); give .npz files with arrays "
                        "x and ebv (or FITS with an EBV header keyword).", ".npy", ".npz")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as error:
        raise DataError(f"{path}: cannot read as .npy ({error}).", os.path.basename(path)) \
            from None
    yield from _chunks(path, _images(path, array, image_shape), None, None, chunk_size)


def read_npz(path, image_shape, needs_ebv, chunk_size):
    try:
        with np.load(path, allow_pickle=False) as archive:
            key = "x" if "x" in archive.files else "image" if "image" in archive.files else None
            if key is None:
                raise DataError(f"{path}: no array named x or image.", sorted(archive.files),
                                "x (or image), ebv for photo-z, ids (optional)")
            images = _images(path, archive[key], image_shape)
            ebv = archive["ebv"] if needs_ebv and "ebv" in archive.files else None
            ids = archive["ids"] if "ids" in archive.files else None
    except AstroKerasError:
        raise
    except Exception as error:  # zipfile.BadZipFile, ValueError, OSError, EOFError
        raise DataError(f"{path}: cannot read as .npz ({type(error).__name__}: {error}).",
                        os.path.basename(path)) from None
    if needs_ebv:
        if ebv is None:
            raise DataError(f"{path}: the photo-z model needs an array ebv.", "missing",
                            "ebv of shape (n,) or (n, 1)")
        ebv = np.asarray(ebv, np.float32).reshape(len(ebv), -1)
        if ebv.shape != (len(images), 1):
            raise DataError(f"{path}: ebv must hold one value per image.", ebv.shape,
                            f"({len(images)},) or ({len(images)}, 1)")
    if ids is not None and len(ids) != len(images):
        raise DataError(f"{path}: ids must hold one id per image.", len(ids), len(images))
    yield from _chunks(path, images, ebv, ids, chunk_size)


def read_shard(path, image_shape, needs_ebv, chunk_size, domain=None):
    """Chunks from one TFRecord shard of an astrokeras dataset (raw images of `domain`)."""
    manifest_path = os.path.join(os.path.dirname(os.path.abspath(path)), "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: the shard's folder has no readable manifest.json ({error}).",
                        manifest_path) from None
    domains = manifest.get("domains", [])
    domain = domains[0] if domain is None and domains else domain
    if domain not in domains:
        raise DataError(f"{path}: domain {domain!r} is not in its manifest.", domain, domains)
    shape = tuple(manifest.get("image_shape", ()))
    if shape != tuple(image_shape):
        raise DataError(f"{path}: the dataset's images have the wrong shape for the model.",
                        shape, tuple(image_shape))
    if needs_ebv and "ebv" not in manifest.get("value_names", []):
        raise DataError(f"{path}: the photo-z model needs E(B-V), which this dataset lacks.",
                        manifest.get("value_names"), "a photoz dataset (value ebv)")
    import tensorflow as tf

    spec = {"galaxy_id": tf.io.FixedLenFeature([], tf.int64),
            f"image/{domain}": tf.io.FixedLenFeature([], tf.string)}
    if needs_ebv:
        spec["value/ebv"] = tf.io.FixedLenFeature([], tf.float32)

    def parse(serialized):
        example = tf.io.parse_example(serialized, spec)
        images = tf.io.decode_raw(example[f"image/{domain}"], tf.float32, little_endian=True)
        out = {"id": example["galaxy_id"], "image": tf.reshape(images, (-1,) + shape)}
        if needs_ebv:
            out["ebv"] = tf.reshape(example["value/ebv"], (-1, 1))
        return out

    dataset = tf.data.TFRecordDataset([path]).batch(chunk_size).map(parse)
    done = 0
    iterator = iter(dataset)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except (tf.errors.OpError, ValueError) as error:
            message = getattr(error, "message", str(error)).splitlines()[0]
            raise DataError(f"{path}: corrupt TFRecord shard after {done} records "
                            f"({type(error).__name__}: {message}).",
                            os.path.basename(path)) from None
        ids = [str(int(i)) for i in batch["id"].numpy()]
        done += len(ids)
        yield Chunk(path, ids, batch["image"].numpy(),
                    batch["ebv"].numpy() if needs_ebv else None)


def _chunks(path, images, ebv, ids, chunk_size):
    stem = _stem(path)
    for start in range(0, len(images), chunk_size):
        stop = min(start + chunk_size, len(images))
        chunk_ids = [str(i) for i in ids[start:stop]] if ids is not None else \
            [f"{stem}:{i}" for i in range(start, stop)]
        yield Chunk(path, chunk_ids, np.asarray(images[start:stop]),
                    None if ebv is None else ebv[start:stop])


def _images(path, array, image_shape):
    """Add the batch axis to a single image; the predictor checks size and bands."""
    if array.ndim == len(image_shape):
        array = array[None]
    if array.ndim != len(image_shape) + 1:
        raise DataError(f"{path}: images have the wrong number of dimensions.", array.shape,
                        "(n, " + ", ".join(map(str, image_shape)) + ")")
    return array


def _to_channels_last(path, data, image_shape):
    """(bands, height, width) as FITS stores a cube, or (height, width, bands) -> channels last.

    Any band count is passed on, so that the predictor reports a wrong one as such.
    """
    height, width, bands = image_shape
    if data.ndim == 2 and data.shape == (height, width):
        return data[..., None]
    if data.ndim == 3:
        if data.shape[1:] == (height, width):
            return np.moveaxis(data, 0, -1)
        if data.shape[:2] == (height, width):
            return data
    raise DataError(f"{path}: the cutout has the wrong shape for the model.", data.shape,
                    f"({bands}, {height}, {width}) as FITS NAXIS3 x NAXIS2 x NAXIS1, or "
                    f"({height}, {width}, {bands})")


def _stem(path):
    name = os.path.basename(path)
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return os.path.splitext(name)[0]
