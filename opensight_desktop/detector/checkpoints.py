"""Reading checkpoints of the detector in every published layout, strictly and safely.

Layouts (shared DESIGN.md section 2): the authors' hub folder (``config.json`` of
PyTorchModelHubMixin kwargs + ``model.safetensors``, ``vit.``-prefixed keys); the authors'
training checkpoint (torch pickle with ``model``/``optimizer``/... keys); a timm folder
(``config.json`` with ``architecture`` and ``pretrained_cfg``); a transformers folder
(``ViTForImageClassification`` + ``preprocessor_config.json``). Bare safetensors or
state-dict files are accepted too, recognised by their keys.

Pickles are untrusted: only ``torch.load(weights_only=True)``, which refuses code.
Loading is strict: a missing, unexpected or wrongly shaped tensor is an error naming it.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from opensight_desktop.detector.network import expected_shapes
from opensight_desktop.detector.preprocess import (
    AUTHORS,
    Preprocessing,
    from_timm_config,
    from_transformers_config,
)
from opensight_desktop.errors import ModelError

FORMAT_HUB = "authors-hub"
FORMAT_TRAINING = "authors-training-checkpoint"
FORMAT_TIMM = "timm"
FORMAT_TRANSFORMERS = "transformers"
FORMAT_STATE_DICT = "state-dict"

WEIGHT_NAMES = ("model.safetensors", "pytorch_model.bin", "model.bin", "model.pt", "model.pth")
CONFIG_LIMIT_BYTES = 1 << 20


@dataclass
class Checkpoint:
    """What a checkpoint holds, before any network is built."""

    format: str
    weights_file: Path
    state_dict: dict[str, torch.Tensor]
    preprocessing: Preprocessing
    # other files that belong to it (configs), copied along into the model store
    companions: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_dtype: str = "float32"


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Identify the layout, read the weights and map them to timm names. Raises ModelError."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"no such file or folder: {path}")
    try:
        checkpoint = _read_folder(path) if path.is_dir() else _read_file(path)
    except ModelError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, EOFError) as exc:
        raise ModelError(f"cannot read checkpoint {path}: {_short(exc)}") from exc
    checkpoint.state_dict, checkpoint.source_dtype = _as_float32(checkpoint.state_dict)
    check_tensors(checkpoint.state_dict, str(path))
    return checkpoint


# -- layouts -------------------------------------------------------------------------------


def _read_folder(folder: Path) -> Checkpoint:
    config_path = folder / "config.json"
    weights = next((folder / n for n in WEIGHT_NAMES if (folder / n).is_file()), None)
    if weights is None:
        found = sorted(
            p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".pth")
        )
        if len(found) != 1:
            raise ModelError(
                f"no weights file in {folder} (expected one of {', '.join(WEIGHT_NAMES)})"
            )
        weights = folder / found[0]
    if not config_path.is_file():
        checkpoint = _read_file(weights)
        return checkpoint
    config = _read_json(config_path)
    companions = [config_path]
    if _is_transformers(config):
        labels = config.get("num_labels") or len(config.get("id2label") or {"0": ""})
        if labels != 1:
            raise ModelError(
                f"{config_path}: a transformers classifier with {labels} labels; "
                "this detector has exactly one output"
            )
        pre_path = folder / "preprocessor_config.json"
        if pre_path.is_file():
            preprocessing = _preprocessing(from_transformers_config, _read_json(pre_path), pre_path)
            companions.append(pre_path)
            notes = []
        else:
            preprocessing = AUTHORS
            notes = ["no preprocessor_config.json: the authors' preprocessing is used"]
        state = map_transformers_keys(_load_weights(weights))
        return Checkpoint(FORMAT_TRANSFORMERS, weights, state, preprocessing, companions, notes)
    if "architecture" in config:
        arch = str(config["architecture"])
        if not arch.startswith("vit_small_patch16_384"):
            raise ModelError(f"{config_path}: architecture {arch!r} is not vit_small_patch16_384")
        if int(config.get("num_classes", 1)) != 1:
            raise ModelError(
                f"{config_path}: num_classes is {config.get('num_classes')}; the detector has one"
            )
        preprocessing = (
            _preprocessing(from_timm_config, config, config_path)
            if config.get("pretrained_cfg")
            else AUTHORS
        )
        state = normalise_keys(_load_weights(weights))
        return Checkpoint(FORMAT_TIMM, weights, state, preprocessing, companions)
    # PyTorchModelHubMixin: the constructor's keyword arguments
    for key, expected in (("input_size", 384), ("patch_size", 16)):
        if key in config and int(config[key]) != expected:
            raise ModelError(
                f"{config_path}: {key} is {config[key]}; this detector needs {expected}"
            )
    state = normalise_keys(_load_weights(weights))
    return Checkpoint(FORMAT_HUB, weights, state, AUTHORS, companions)


def _read_file(path: Path) -> Checkpoint:
    raw = _load_weights(path)
    if "model" in raw and isinstance(raw["model"], dict):
        state = normalise_keys(raw["model"])
        return Checkpoint(
            FORMAT_TRAINING,
            path,
            state,
            AUTHORS,
            notes=[
                f"training checkpoint; other entries ignored: "
                f"{', '.join(sorted(k for k in raw if k != 'model'))}"
            ],
        )
    if "state_dict" in raw and isinstance(raw["state_dict"], dict):
        raw = raw["state_dict"]
    if _looks_transformers(raw):
        return Checkpoint(
            FORMAT_TRANSFORMERS,
            path,
            map_transformers_keys(raw),
            AUTHORS,
            notes=["bare transformers weights: the authors' preprocessing is used"],
        )
    return Checkpoint(FORMAT_STATE_DICT, path, normalise_keys(raw), AUTHORS)


def _load_weights(path: Path) -> dict[str, Any]:
    """Tensors from a safetensors file or a pickle (weights only: code is refused)."""
    if path.stat().st_size == 0:
        raise ModelError(f"{path} is empty")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if path.suffix == ".safetensors" or _looks_like_safetensors(path, head):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return dict(load_file(str(path)))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"{path} is not a valid safetensors file ({_short(exc)})") from exc
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelError(
            f"refused {path}: the safe weights-only loader rejected it "
            f"({_unpickler_reason(exc)}). Pickled checkpoints "
            "may carry code, which is never run; a genuine checkpoint holds only tensors"
        ) from exc
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, TypeError) as exc:
        raise ModelError(f"{path} is not a readable PyTorch checkpoint ({_short(exc)})") from exc
    if not isinstance(loaded, dict):
        raise ModelError(f"{path} holds a {type(loaded).__name__}, not a dictionary of weights")
    return loaded


def _unpickler_reason(exc: BaseException) -> str:
    """torch's message wraps the reason in advice meant for developers; keep the reason."""
    text = str(exc)
    for pattern in (
        r"WeightsUnpickler error:\s*([^\n]+)",
        r"(Trying to load unsupported[^\n]+)",
        r"(Unsupported [^\n]+)",
    ):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    return _short(exc)


def _looks_like_safetensors(path: Path, head: bytes) -> bool:
    if len(head) < 8:
        return False
    header_len = int.from_bytes(head, "little")
    if not 2 <= header_len <= 100 << 20:
        return False
    with open(path, "rb") as handle:
        handle.seek(8)
        return handle.read(1) == b"{"


def _read_json(path: Path) -> dict[str, Any]:
    if path.stat().st_size > CONFIG_LIMIT_BYTES:
        raise ModelError(f"{path} is too large for a configuration file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path} is not valid JSON ({_short(exc)})") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} is not a JSON object")
    return data


def _preprocessing(reader: Any, config: dict[str, Any], path: Path) -> Preprocessing:
    try:
        return reader(config)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: unusable preprocessing settings ({_short(exc)})") from exc


def _is_transformers(config: dict[str, Any]) -> bool:
    archs = config.get("architectures") or []
    return "ViTForImageClassification" in archs or config.get("model_type") == "vit"


# -- key names -----------------------------------------------------------------------------

_PREFIXES = ("module.", "_orig_mod.")


def _strip_wrappers(state: dict[str, Any]) -> dict[str, Any]:
    """Remove DataParallel/DDP (``module.``) and torch.compile (``_orig_mod.``) prefixes."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if state and all(k.startswith(prefix) for k in state):
                state = {k[len(prefix) :]: v for k, v in state.items()}
                changed = True
    return state


def _looks_transformers(state: dict[str, Any]) -> bool:
    keys = _strip_wrappers(state)
    return any(k.startswith(("vit.embeddings.", "vit.encoder.", "vit.layers.")) for k in keys)


def normalise_keys(state: dict[str, Any]) -> dict[str, Any]:
    """Authors' ``vit.``-prefixed names (and wrapper prefixes) -> plain timm names."""
    state = _strip_wrappers(state)
    if _looks_transformers(state):
        return map_transformers_keys(state)
    if state and all(k.startswith("vit.") for k in state):
        state = {k[4:]: v for k, v in state.items()}
    return state


_HF_LAYER = re.compile(r"^vit\.(?:encoder\.layer|layers)\.(\d+)\.(.+)$")
_HF_LAYER_PARTS = {
    "layernorm_before": "norm1",
    "layernorm_after": "norm2",
    "attention.output.dense": "attn.proj",
    "attention.o_proj": "attn.proj",
    "intermediate.dense": "mlp.fc1",
    "output.dense": "mlp.fc2",
    "mlp.fc1": "mlp.fc1",
    "mlp.fc2": "mlp.fc2",
}
_HF_QKV = {
    "attention.attention.query": "q",
    "attention.attention.key": "k",
    "attention.attention.value": "v",
    "attention.q_proj": "q",
    "attention.k_proj": "k",
    "attention.v_proj": "v",
}
_HF_TOP = {
    "vit.embeddings.cls_token": "cls_token",
    "vit.embeddings.position_embeddings": "pos_embed",
    "vit.embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "vit.embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "vit.layernorm.weight": "norm.weight",
    "vit.layernorm.bias": "norm.bias",
    "classifier.weight": "head.weight",
    "classifier.bias": "head.bias",
}


def map_transformers_keys(state: dict[str, Any]) -> dict[str, Any]:
    """transformers ViT names (v4 and v5) -> timm, concatenating q, k, v into qkv."""
    state = _strip_wrappers(state)
    out: dict[str, Any] = {}
    qkv: dict[tuple[int, str], dict[str, Any]] = {}
    unknown = []
    for key, value in state.items():
        if key in _HF_TOP:
            out[_HF_TOP[key]] = value
            continue
        match = _HF_LAYER.match(key)
        if match is None:
            unknown.append(key)
            continue
        index, rest = int(match.group(1)), match.group(2)
        part, _, kind = rest.rpartition(".")
        if part in _HF_QKV:
            qkv.setdefault((index, kind), {})[_HF_QKV[part]] = value
        elif part in _HF_LAYER_PARTS:
            out[f"blocks.{index}.{_HF_LAYER_PARTS[part]}.{kind}"] = value
        else:
            unknown.append(key)
    for (index, kind), parts in qkv.items():
        if set(parts) != {"q", "k", "v"}:
            missing = sorted({"q", "k", "v"} - set(parts))
            raise ModelError(f"layer {index}: attention {kind} lacks {', '.join(missing)}")
        out[f"blocks.{index}.attn.qkv.{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]])
    for key in unknown:
        out[key] = state[key]  # reported by the strict check as unexpected
    return out


# -- strict check --------------------------------------------------------------------------


def check_tensors(state: dict[str, Any], where: str) -> None:
    """Exactly the tensors of ViT-S/16-384 with a one-logit head, or a ModelError naming
    what differs."""
    expected = expected_shapes()
    non_tensors = sorted(k for k, v in state.items() if not isinstance(v, torch.Tensor))
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k} {list(state[k].shape)} (expected {list(expected[k])})"
        for k in set(expected) & set(state)
        if isinstance(state[k], torch.Tensor) and tuple(state[k].shape) != expected[k]
    )
    problems = []
    if non_tensors:
        problems.append(f"entries that are not tensors: {_few(non_tensors)}")
    if missing:
        problems.append(f"{len(missing)} missing: {_few(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected: {_few(unexpected)}")
    if wrong:
        problems.append(f"{len(wrong)} of the wrong shape: {_few(wrong)}")
    if problems:
        raise ModelError(
            f"{where} does not hold the Community Forensics ViT-S/16-384 detector "
            f"(timm vit_small_patch16_384 with a 1-logit head): " + "; ".join(problems)
        )


def _as_float32(state: dict[str, Any]) -> tuple[dict[str, Any], str]:
    dtypes = {
        str(v.dtype).replace("torch.", "") for v in state.values() if isinstance(v, torch.Tensor)
    }
    converted = {
        k: v.to(torch.float32) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
        for k, v in state.items()
    }
    return converted, ",".join(sorted(dtypes)) or "none"


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
