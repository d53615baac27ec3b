"""Random-weight detectors saved in each published checkpoint layout (made at test time)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from opensight_desktop.detector.network import build_network

AUTHORS_CROP_PCT = 0.8727  # 384 / 0.8727 -> 440.01 -> timm floors it to 440


def random_state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    model = build_network()
    # A larger head spreads the random model's probabilities away from 0.5, so that a
    # preprocessing mistake shows up as a visible difference in the scores.
    with torch.no_grad():
        model.head.weight.mul_(30.0)
    return {k: v.contiguous().clone() for k, v in model.state_dict().items()}


def save_hub(state: dict[str, torch.Tensor], folder: Path) -> Path:
    folder.mkdir(parents=True)
    config = {
        "model_size": "small",
        "input_size": 384,
        "patch_size": 16,
        "freeze_backbone": False,
        "device": "cpu",
    }
    (folder / "config.json").write_text(json.dumps(config))
    save_file({f"vit.{k}": v for k, v in state.items()}, str(folder / "model.safetensors"))
    return folder


def save_training(state: dict[str, torch.Tensor], path: Path, prefix: str = "vit.") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": {f"{prefix}{k}": v for k, v in state.items()},
            "optimizer": {
                "state": {0: {"step": torch.tensor(3.0)}},
                "param_groups": [{"lr": 1e-4}],
            },
            "scheduler": {"last_epoch": 3},
            "scaler": {"scale": 65536.0},
            "epoch": 3,
            "itr": 12000,
        },
        path,
    )
    return path


def save_timm(state: dict[str, torch.Tensor], folder: Path, use_bin: bool = False) -> Path:
    folder.mkdir(parents=True)
    config = {
        "architecture": "vit_small_patch16_384",
        "num_classes": 1,
        "num_features": 384,
        "pretrained_cfg": {
            "input_size": [3, 384, 384],
            "crop_pct": AUTHORS_CROP_PCT,
            "crop_mode": "center",
            "interpolation": "bilinear",
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
    }
    (folder / "config.json").write_text(json.dumps(config))
    if use_bin:
        torch.save(state, folder / "pytorch_model.bin")
    else:
        save_file(state, str(folder / "model.safetensors"))
    return folder


def to_transformers(state: dict[str, torch.Tensor], v5: bool = False) -> dict[str, torch.Tensor]:
    out = {
        "vit.embeddings.cls_token": state["cls_token"],
        "vit.embeddings.position_embeddings": state["pos_embed"],
        "vit.embeddings.patch_embeddings.projection.weight": state["patch_embed.proj.weight"],
        "vit.embeddings.patch_embeddings.projection.bias": state["patch_embed.proj.bias"],
        "vit.layernorm.weight": state["norm.weight"],
        "vit.layernorm.bias": state["norm.bias"],
        "classifier.weight": state["head.weight"],
        "classifier.bias": state["head.bias"],
    }
    for i in range(12):
        base = f"vit.layers.{i}." if v5 else f"vit.encoder.layer.{i}."
        names = (
            {
                "q": "attention.q_proj",
                "k": "attention.k_proj",
                "v": "attention.v_proj",
                "o": "attention.o_proj",
                "fc1": "mlp.fc1",
                "fc2": "mlp.fc2",
            }
            if v5
            else {
                "q": "attention.attention.query",
                "k": "attention.attention.key",
                "v": "attention.attention.value",
                "o": "attention.output.dense",
                "fc1": "intermediate.dense",
                "fc2": "output.dense",
            }
        )
        for kind in ("weight", "bias"):
            q, k, v = state[f"blocks.{i}.attn.qkv.{kind}"].chunk(3)
            out[f"{base}{names['q']}.{kind}"] = q.contiguous()
            out[f"{base}{names['k']}.{kind}"] = k.contiguous()
            out[f"{base}{names['v']}.{kind}"] = v.contiguous()
            out[f"{base}{names['o']}.{kind}"] = state[f"blocks.{i}.attn.proj.{kind}"]
            out[f"{base}{names['fc1']}.{kind}"] = state[f"blocks.{i}.mlp.fc1.{kind}"]
            out[f"{base}{names['fc2']}.{kind}"] = state[f"blocks.{i}.mlp.fc2.{kind}"]
            out[f"{base}layernorm_before.{kind}"] = state[f"blocks.{i}.norm1.{kind}"]
            out[f"{base}layernorm_after.{kind}"] = state[f"blocks.{i}.norm2.{kind}"]
    return out


def save_transformers(
    state: dict[str, torch.Tensor], folder: Path, v5: bool = False, preprocessor: dict | None = None
) -> Path:
    folder.mkdir(parents=True)
    config = {
        "architectures": ["ViTForImageClassification"],
        "model_type": "vit",
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 6,
        "intermediate_size": 1536,
        "image_size": 384,
        "patch_size": 16,
        "layer_norm_eps": 1e-6,
        "id2label": {"0": "LABEL_0"},
        "label2id": {"LABEL_0": 0},
    }
    (folder / "config.json").write_text(json.dumps(config))
    save_file(to_transformers(state, v5), str(folder / "model.safetensors"))
    preprocessor = preprocessor or {
        "image_processor_type": "ConvNextImageProcessor",
        "do_resize": True,
        "size": {"shortest_edge": 440},
        "resample": 2,
        "do_center_crop": True,
        "crop_size": {"height": 384, "width": 384},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    return folder


# -- hostile checkpoints --------------------------------------------------------------------


def save_safetensors_with_duplicate(
    state: dict[str, torch.Tensor], path: Path, key: str, decoy: str
) -> Path:
    """A safetensors file whose header names ``key`` twice: first over ``decoy``'s bytes,
    then over its own (a JSON parser that lets the last one win sees a normal file)."""
    save_file(state, str(path))
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    entries = list(header.items())
    entries.insert(0, (key, header[decoy]))
    text = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in entries) + "}"
    raw = text.encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data[8 + length :])
    return path


def save_pickle_with_duplicate(
    state: dict[str, torch.Tensor], path: Path, key: str, value: torch.Tensor
) -> Path:
    """``torch.save`` of a state dict that sets ``key`` twice (first to ``value``)."""
    import pickle
    import types

    class DuplicatingPickler(pickle._Pickler):  # type: ignore[name-defined]
        def _batch_setitems(self, items):  # type: ignore[no-untyped-def]
            items = list(items)
            if any(k == key for k, _ in items):
                items.insert(0, (key, value))
            super()._batch_setitems(iter(items))

    module = types.SimpleNamespace(Pickler=DuplicatingPickler, __name__="pickle")
    torch.save(dict(state), path, pickle_module=module)
    return path


def overflowing_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Finite weights whose logit overflows float32 for any input (+/-Inf or NaN)."""
    state = random_state(seed)
    state["head.weight"] = torch.full_like(state["head.weight"], 3e38)
    return state
