# SPDX-License-Identifier: GPL-3.0-or-later
"""The photographs the pixel model is trained and measured on, all shipped
inside PyPI packages (scikit-image's data module, scikit-learn's sample
images), so nothing is downloaded and no image is copied into this repository.

The held-out set is never seen by training (train/train_pixel_model.py reads
TRAIN only); the two motorcycle frames are a stereo pair, so both sit in the
same set. JPEG-sourced images are decoded by Pillow (its version goes into
every record, since another libjpeg could decode other pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ShippedImage:
    name: str
    package: str  # "skimage" or "sklearn"
    file: str  # file name inside the package's data folder


_SKIMAGE = {
    "astronaut": "astronaut.png",
    "coffee": "coffee.png",
    "chelsea": "chelsea.png",
    "camera": "camera.png",
    "rocket": "rocket.jpg",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "retina": "retina.jpg",
    "ihc": "ihc.png",
    "moon": "moon.png",
    "coins": "coins.png",
    "brick": "brick.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
}
_SKLEARN = {"china": "china.jpg", "flower": "flower.jpg"}

IMAGES = {name: ShippedImage(name, "skimage", f) for name, f in _SKIMAGE.items()}
IMAGES.update({name: ShippedImage(name, "sklearn", f) for name, f in _SKLEARN.items()})

# Held out: four RGB photographs and one grey one, never read by training.
TEST = ("astronaut", "coffee", "chelsea", "flower", "camera")
TRAIN = tuple(name for name in IMAGES if name not in TEST)


def _package_folder(package: str) -> Path:
    if package == "skimage":
        import skimage

        return Path(skimage.__file__).parent / "data"
    if package == "sklearn":
        import sklearn.datasets

        return Path(sklearn.datasets.__file__).parent / "images"
    raise ValueError(f"unknown package {package!r}")


def image_path(name: str) -> Path:
    image = IMAGES[name]
    return _package_folder(image.package) / image.file


def load(name: str) -> np.ndarray:
    """The image `name` as uint8 H x W (grey) or H x W x 3 (RGB; alpha dropped)."""
    from PIL import Image

    with Image.open(image_path(name)) as im:
        if im.mode in ("L", "I;16", "I", "1"):
            return np.asarray(im.convert("L"))
        return np.asarray(im.convert("RGB"))


def describe_split() -> dict:
    """The split as a record: which images are in which set, with their shapes."""
    return {
        "train": {n: list(load(n).shape) for n in TRAIN},
        "test": {n: list(load(n).shape) for n in TEST},
        "source": "scikit-image data module and scikit-learn sample images (PyPI)",
    }
