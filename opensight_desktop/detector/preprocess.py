"""The detector's input pipeline, exactly as the authors' torchvision one.

``Image.open(f).convert("RGB")`` (no EXIF orientation) -> Resize(440) on the shorter side
(PIL bilinear, antialiased; long side ``int(440 * long / short)``) -> CenterCrop(384)
(top = ``int(round((h - 384) / 2))``) -> /255 -> normalise. The same PIL and torch
operations torchvision performs, so the tensors are bit-identical (a test checks this),
plus the geometry that places a heatmap back onto the original image.

A checkpoint that ships its own preprocessing (timm ``pretrained_cfg``, transformers
``preprocessor_config.json``) is preprocessed as that configuration says.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from opensight_desktop.detector.geometry import Geometry

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_INTERPOLATIONS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}
# transformers stores PIL's integer resampling codes
_PIL_CODES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the model's input. Recorded with every result."""

    resize_shorter: int | None = 440  # shorter side to this many px, keeping aspect
    resize_to: tuple[int, int] | None = None  # or exactly (width, height)
    crop: tuple[int, int] | None = (384, 384)  # centre crop (width, height)
    crop_rounding: str = "round"  # torchvision rounds the offset; transformers floors it
    interpolation: str = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    source: str = "authors' inference pipeline (Resize 440, CenterCrop 384, ImageNet mean/std)"

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def input_size(self) -> tuple[int, int]:
        if self.crop:
            return self.crop
        if self.resize_to:
            return self.resize_to
        raise ValueError("preprocessing without a fixed input size")


AUTHORS = Preprocessing()
# Above this many pixels after resizing, only the cropped region is resized (see below).
FULL_RESIZE_LIMIT = 40_000_000


def resized_size(width: int, height: int, spec: Preprocessing) -> tuple[int, int]:
    if spec.resize_to is not None:
        return spec.resize_to
    if spec.resize_shorter is None:
        return width, height
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = spec.resize_shorter, int(spec.resize_shorter * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


def crop_box(width: int, height: int, spec: Preprocessing) -> tuple[int, int, int, int]:
    if spec.crop is None:
        return (0, 0, width, height)
    crop_w, crop_h = spec.crop
    if spec.crop_rounding == "floor":
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
    else:
        top = round((height - crop_h) / 2.0)
        left = round((width - crop_w) / 2.0)
    return (left, top, left + crop_w, top + crop_h)


def to_model_input(image: Image.Image, spec: Preprocessing) -> tuple[torch.Tensor, Geometry]:
    """An RGB PIL image -> normalised float32 CHW tensor and its geometry."""
    if image.mode != "RGB":
        raise ValueError("to_model_input expects an RGB image")
    width, height = image.size
    target = resized_size(width, height, spec)
    box = crop_box(*target, spec)
    if box[0] < 0 or box[1] < 0:
        raise ValueError("the resized image is smaller than the crop")
    region = target[0] * target[1] > FULL_RESIZE_LIMIT and box != (0, 0, *target)
    if region:
        # An extreme aspect ratio (say 65535x1) would need gigabytes for the full resize;
        # resize only the source region that becomes the crop. Same geometry, pixel values
        # within one level of the exact pipeline; recorded with the result.
        sx, sy = width / target[0], height / target[1]
        source = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
        image = image.resize(
            (box[2] - box[0], box[3] - box[1]), _INTERPOLATIONS[spec.interpolation], box=source
        )
    else:
        if target != (width, height):
            image = image.resize(target, _INTERPOLATIONS[spec.interpolation])
        if box != (0, 0, *target):
            image = image.crop(box)
    array = np.array(image, dtype=np.uint8, copy=True)
    tensor = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    tensor = tensor.to(dtype=torch.float32).div(255)
    mean = torch.as_tensor(spec.mean, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(spec.std, dtype=torch.float32)[:, None, None]
    tensor.sub_(mean).div_(std)
    return tensor, Geometry((width, height), target, box, region)


def from_timm_config(config: dict[str, Any]) -> Preprocessing:
    """timm ``pretrained_cfg``: Resize(floor(size / crop_pct)) + CenterCrop(size)."""
    cfg = config.get("pretrained_cfg") or {}
    input_size = cfg.get("input_size") or [3, 384, 384]
    height, width = int(input_size[-2]), int(input_size[-1])
    crop_pct = float(cfg.get("crop_pct") or 1.0)
    mode = cfg.get("crop_mode", "center")
    if mode not in ("center", None):
        raise ValueError(f"unsupported timm crop_mode {mode!r}")
    interpolation = str(cfg.get("interpolation") or "bicubic")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"unsupported interpolation {interpolation!r}")
    scale = math.floor(min(height, width) / crop_pct)
    return Preprocessing(
        resize_shorter=scale,
        crop=(width, height),
        interpolation=interpolation,
        mean=_triple(cfg.get("mean"), IMAGENET_MEAN),
        std=_triple(cfg.get("std"), IMAGENET_STD),
        source="timm pretrained_cfg in the checkpoint's config.json",
    )


def from_transformers_config(config: dict[str, Any]) -> Preprocessing:
    """transformers ``preprocessor_config.json`` (ViT/CLIP-style image processors)."""
    resize_shorter: int | None = None
    resize_to: tuple[int, int] | None = None
    if config.get("do_resize", True):
        size = config.get("size", {"height": 384, "width": 384})
        if isinstance(size, int):
            size = {"shortest_edge": size}
        if "shortest_edge" in size:
            resize_shorter = int(size["shortest_edge"])
        else:
            resize_to = (int(size["width"]), int(size["height"]))
    crop: tuple[int, int] | None = None
    if config.get("do_center_crop", False):
        crop_size = config.get("crop_size", {"height": 384, "width": 384})
        if isinstance(crop_size, int):
            crop_size = {"height": crop_size, "width": crop_size}
        crop = (int(crop_size["width"]), int(crop_size["height"]))
    interpolation = _PIL_CODES.get(int(config.get("resample", 2)))
    if interpolation is None:
        raise ValueError(f"unsupported resample code {config.get('resample')!r}")
    do_normalize = config.get("do_normalize", True)
    return Preprocessing(
        resize_shorter=resize_shorter,
        resize_to=resize_to,
        crop=crop,
        crop_rounding="floor",
        interpolation=interpolation,
        mean=_triple(config.get("image_mean"), IMAGENET_MEAN) if do_normalize else (0.0,) * 3,
        std=_triple(config.get("image_std"), IMAGENET_STD) if do_normalize else (1.0,) * 3,
        source="transformers preprocessor_config.json shipped with the checkpoint",
    )


def _triple(value: Any, default: tuple[float, float, float]) -> tuple[float, float, float]:
    if value is None:
        return default
    values = tuple(float(v) for v in value)
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise ValueError(f"expected three channel values, got {value!r}")
    return values
