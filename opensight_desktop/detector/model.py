"""A detector ready to run: network with strictly loaded weights on a device."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from opensight_desktop import __version__
from opensight_desktop.detector.checkpoints import Checkpoint
from opensight_desktop.detector.forward import class_token_path_agrees, logits, logits_and_cams
from opensight_desktop.detector.network import build_network
from opensight_desktop.detector.preprocess import Preprocessing
from opensight_desktop.errors import UsageError

PRECISION = "fp32"
# Finite weights can still overflow; such an output is never stored as a score.
NON_FINITE_REASON = "the detector produced a non-finite score (NaN/Inf): these weights are unusable"


def resolve_device(requested: str) -> torch.device:
    if requested not in ("auto", "cpu", "cuda") and not requested.startswith("cuda:"):
        raise UsageError(f"device must be auto, cpu or cuda, not {requested!r}")
    if requested == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda:0" if requested in ("auto", "cuda") else requested)
    if requested == "auto":
        return torch.device("cpu")
    raise UsageError(
        f"CUDA was requested but no CUDA device is usable here (torch {torch.__version__}, "
        f"built for CUDA {torch.version.cuda or 'none'}); use --device cpu or auto"
    )


def device_label(device: torch.device) -> str:
    return f"cuda:{device.index or 0}" if device.type == "cuda" else "cpu"


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}"
    name = platform.processor() or platform.machine()
    return f"CPU {name} ({torch.get_num_threads()} threads)"


def library_versions() -> dict[str, str]:
    import PIL
    import timm
    import torchvision

    return {
        "opensight-desktop": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "timm": timm.__version__,
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "cuda": torch.version.cuda or "none",
    }


@dataclass
class ModelIdentity:
    """What every result records about the model that produced it."""

    id: str  # SHA-256 of the weights file as imported (content address in the store)
    name: str
    format: str
    source: str
    published_match: str | None = None
    # digest over every file that affects a score (weights and configs), and those files
    identity_sha256: str = ""
    files: dict[str, str] = field(default_factory=dict)  # name -> SHA-256


def detector_of(
    checkpoint: Checkpoint,
    model_id: str,
    name: str,
    format: str,
    source: str,
    published_match: str | None,
    device: str = "auto",
) -> LoadedDetector:
    """The detector of a checkpoint read from the store (or shipped to a cluster node), with
    the identity every result records."""
    identity = ModelIdentity(
        model_id,
        name,
        format,
        source,
        published_match,
        identity_sha256=checkpoint.identity,
        files={n: f.sha256 for n, f in checkpoint.files.items()},
    )
    return LoadedDetector(checkpoint, identity, resolve_device(device))


class LoadedDetector:
    def __init__(self, checkpoint: Checkpoint, identity: ModelIdentity, device: torch.device):
        self.identity = identity
        self.preprocessing: Preprocessing = checkpoint.preprocessing
        self.device = device
        network = build_network()
        network.load_state_dict(checkpoint.state_dict, strict=True)
        for parameter in network.parameters():
            parameter.requires_grad_(False)  # heatmaps need activation gradients only
        self.network = network.to(device)
        self.class_token_path = class_token_path_agrees(self.network, device)

    @property
    def device_label(self) -> str:
        return device_label(self.device)

    def record(self) -> dict[str, Any]:
        return {
            "model_id": self.identity.id,
            "identity_sha256": self.identity.identity_sha256,
            "files": dict(self.identity.files),
            "model_name": self.identity.name,
            "format": self.identity.format,
            "source": self.identity.source,
            "published_match": self.identity.published_match,
            "device": self.device_label,
            "device_description": device_description(self.device),
            "precision": PRECISION,
            "forward": "class-token last block (checked against timm at load)"
            if self.class_token_path
            else "timm forward",
            "preprocessing": self.preprocessing.as_record(),
        }

    def predict(self, batch: torch.Tensor, heatmaps: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits (B,) and, if asked, heatmaps (B, 24, 24) for a preprocessed batch."""
        batch = batch.to(self.device, non_blocking=True)
        if heatmaps:
            values, cams = logits_and_cams(self.network, batch, self.class_token_path)
            return values.cpu().numpy().astype(np.float64), cams.cpu().numpy()
        values = logits(self.network, batch, self.class_token_path)
        return values.cpu().numpy().astype(np.float64), None


def finite_outputs(logits: np.ndarray, cams: np.ndarray | None) -> NDArray[np.bool_]:
    """Per image: are its logit and (if any) its heatmap free of NaN and infinity?"""
    finite: NDArray[np.bool_] = np.isfinite(logits)
    if cams is not None:
        finite &= np.isfinite(cams.reshape(len(cams), -1)).all(axis=1)
    return finite


def probability(logit: float) -> float:
    """sigmoid, computed stably in float64."""
    if logit >= 0:
        return float(1.0 / (1.0 + np.exp(-logit)))
    z = float(np.exp(logit))
    return z / (1.0 + z)
