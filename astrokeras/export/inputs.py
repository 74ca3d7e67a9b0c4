"""Readers of the inputs of `predict_files`: FITS cutouts, .npy / .npz arrays, TFRecord shards.

Each reader yields `Chunk`s of at most `chunk_size` objects and raises `DataError` when the
file cannot be used (unreadable, corrupt, wrong shape, missing E(B-V)); the message starts with
the file's path and names it nowhere else.

- FITS (`.fits`, `.fit`, `.fts`, optionally `.gz`): one cutout per file, read with astropy:
  the first HDU with 2-D or 3-D data. A cube is (bands, height, width) as FITS stores it
  (NAXIS3 = bands) or (height, width, bands); a 2-D image is one band. The object id is the
  file name without its suffix; photo-z models read E(B-V) from the header keyword `EBV`.
- `.npy`: one array (n, height, width, bands) or one image (height, width, bands), memory
  mapped and read `chunk_size` images at a time; ids "<file stem>:<index>". Not for photo-z
  models with an E(B-V) input (use .npz).
- `.npz`: arrays `x` (or `image`) of images, `ebv` for photo-z models and optionally `ids`.
  The images are streamed `chunk_size` at a time out of the zip member (`zipfile` decompresses
  on the fly), so memory is bounded for `np.savez` and `np.savez_compressed` archives alike; a
  compressed member cannot be memory mapped, and is not: it is decompressed in order, in
  pieces. The image member is first read through once (in 64 KiB pieces) to check its CRC, so
  a damaged archive is reported before any of its images is used; that costs one more pass
  over the file. Only an image array stored in Fortran order (not what `np.savez` writes for
  ordinary arrays) is read whole. `ebv` and `ids` (one value per image) are read whole.
- `.tfrecord`: a shard written by `astrokeras.data.write_dataset`, read with the
  `manifest.json` of its folder; ids are the galaxy ids, E(B-V) the stored value, the images
  those of `domain` (the manifest's first domain by default), in electrons per second.
- A folder: its `manifest.json` shards if it has one, else its files of the types above.
"""

import dataclasses
import glob
import json
import math
import os
import warnings
import zipfile

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
        raise DataError(f"{path}: no such file.")
    if name.endswith(FITS_SUFFIXES):
        yield read_fits(path, image_shape, needs_ebv)
    elif name.endswith(".npy"):
        yield from read_npy(path, image_shape, needs_ebv, chunk_size)
    elif name.endswith(".npz"):
        yield from read_npz(path, image_shape, needs_ebv, chunk_size)
    elif name.endswith(".tfrecord"):
        yield from read_shard(path, image_shape, needs_ebv, chunk_size, domain)
    else:
        raise DataError(f"{path}: unknown input type (suffix).", _suffix(path),
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
                    raise DataError(f"{path}: no HDU holds a 2-D or 3-D image.",
                                    [h.name for h in hdus], "a cutout (bands, height, width)")
                data = np.asarray(hdu.data)
                ebv = hdu.header.get("EBV", hdus[0].header.get("EBV"))
    except AstroKerasError:
        raise
    except Exception as error:  # astropy raises OSError, ValueError, TypeError, VerifyError
        raise DataError(f"{path}: cannot read as FITS ({type(error).__name__}: {error}).") \
            from None
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
        raise DataError(f"{path}: cannot read as .npy ({error}).") from None
    yield from _chunks(path, _images(path, array, image_shape), None, None, chunk_size)


def read_npz(path, image_shape, needs_ebv, chunk_size):
    """Chunks of the images of an .npz archive, streamed out of the zip member."""
    try:
        archive = zipfile.ZipFile(path)
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError, ValueError
        raise _npz_error(path, error) from None
    with archive:
        members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
        key = "x" if "x" in members else "image" if "image" in members else None
        if key is None:
            raise DataError(f"{path}: no array named x or image.", sorted(members),
                            "x (or image), ebv for photo-z, ids (optional)")
        try:
            # Read the image member through once (bounded blocks) so that a damaged archive
            # (bad CRC, corrupt deflate data, truncation) is skipped whole, before any of its
            # rows is predicted.
            _check_member(archive, members[key])
            ebv = _read_member(archive, members["ebv"]) \
                if needs_ebv and "ebv" in members else None
            ids = _read_member(archive, members["ids"]) if "ids" in members else None
            with archive.open(members[key]) as stream:
                shape, fortran_order, dtype = _npy_header(stream)
                if len(shape) == len(image_shape):  # one image
                    shape = (1,) + tuple(shape)
                if len(shape) != len(image_shape) + 1:
                    raise DataError(f"{path}: images have the wrong number of dimensions.",
                                    shape, "(n, " + ", ".join(map(str, image_shape)) + ")")
                count = shape[0]
                if needs_ebv:
                    ebv = _check_ebv(path, ebv, count)
                if ids is not None and len(ids) != count:
                    raise DataError(f"{path}: ids must hold one id per image.", len(ids), count)
                size = dtype.itemsize * math.prod(shape)
                if fortran_order:  # rows are not contiguous in the file: read it whole
                    data = stream.read(size)
                    if len(data) != size:
                        raise DataError(f"{path}: array {key} is truncated.", len(data), size)
                    images = np.frombuffer(data, dtype).reshape(shape, order="F")
                    yield from _chunks(path, images, ebv, ids, chunk_size)
                    return
                row_bytes = dtype.itemsize * math.prod(shape[1:])
                stem = _stem(path)
                for start in range(0, count, chunk_size):
                    stop = min(start + chunk_size, count)
                    data = stream.read((stop - start) * row_bytes)
                    if len(data) != (stop - start) * row_bytes:
                        raise DataError(f"{path}: array {key} ends after {start} of {count} "
                                        "images (truncated).", len(data),
                                        (stop - start) * row_bytes)
                    image = np.frombuffer(data, dtype).reshape((stop - start,) + shape[1:])
                    chunk_ids = [str(i) for i in ids[start:stop]] if ids is not None else \
                        [f"{stem}:{i}" for i in range(start, stop)]
                    yield Chunk(path, chunk_ids, image,
                                None if ebv is None else ebv[start:stop])
        except AstroKerasError:
            raise
        except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, ValueError
            raise _npz_error(path, error) from None


def _npz_error(path, error):
    return DataError(f"{path}: cannot read as .npz ({type(error).__name__}: {error}).")


def _npy_header(stream):
    """(shape, fortran_order, dtype) of the .npy stream, positioned at its data."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):  # 3.0: 2.0 with a UTF-8 header (field names)
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f".npy format version {version} is not supported")
    if dtype.hasobject:
        raise ValueError("the array holds Python objects (not read: allow_pickle=False)")
    return tuple(shape), fortran_order, dtype


def _check_member(archive, name, block=1 << 16):
    """Read a zip member to its end in `block`-byte pieces; zipfile checks its CRC-32."""
    with archive.open(name) as stream:
        while stream.read(block):
            pass


def _read_member(archive, name):
    """A whole (small) array of the archive: E(B-V) or ids."""
    with archive.open(name) as stream:
        return np.lib.format.read_array(stream, allow_pickle=False)


def _check_ebv(path, ebv, count):
    if ebv is None:
        raise DataError(f"{path}: the photo-z model needs an array ebv.", "missing",
                        "ebv of shape (n,) or (n, 1)")
    ebv = np.asarray(ebv, np.float32).reshape(len(ebv), -1)
    if ebv.shape != (count, 1):
        raise DataError(f"{path}: ebv must hold one value per image.", ebv.shape,
                        f"({count},) or ({count}, 1)")
    return ebv


def read_shard(path, image_shape, needs_ebv, chunk_size, domain=None):
    """Chunks from one TFRecord shard of an astrokeras dataset (raw images of `domain`)."""
    manifest_path = os.path.join(os.path.dirname(os.path.abspath(path)), "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: the shard's folder has no readable manifest.json ({error}).") \
            from None
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
                            f"({type(error).__name__}: {message}).") from None
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
    return name[: len(name) - len(_suffix(path))]


def _suffix(path):
    """The input-type suffix of `path` (".fits.gz", ".npy"...), else its last extension."""
    name = os.path.basename(path)
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[-len(suffix):]
    return os.path.splitext(name)[1]
