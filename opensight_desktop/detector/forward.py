"""The model's forward pass, with the last block computed for the class token only.

The head reads only the class token, and after the last block no other token can reach
it; so the last block needs the keys and values of all tokens but the query, attention
output, MLP and final norm of the class token alone. The logit is the same number (the
same fp32 operations on the same values; summation order inside matrix products may
differ at the last bit), about 1/15 of the work is skipped, and the heatmap's backward
pass through that block becomes nearly free.

This re-states timm's ``Block``/``Attention`` forward, so it is used only after a check,
once per loaded model, that it reproduces timm's own forward on this installation
(:func:`class_token_path_agrees`); otherwise the plain timm forward is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, cast

import torch
import torch.nn.functional as F
from torch import nn

_Layer = Callable[[torch.Tensor], torch.Tensor]


# What the re-stated forward reads of timm's VisionTransformer, Block and Attention.
# nn.Module attributes are untyped; a model is cast to these after the structural check
# (class_token_path_supported) and the numerical one (class_token_path_agrees).
class _Attention(Protocol):
    num_heads: int
    head_dim: int
    qkv: nn.Linear
    q_norm: _Layer
    k_norm: _Layer
    norm: _Layer
    proj: _Layer
    proj_drop: _Layer


class _Block(Protocol):
    attn: _Attention
    norm1: _Layer
    norm2: _Layer
    ls1: _Layer
    ls2: _Layer
    drop_path1: _Layer
    drop_path2: _Layer
    mlp: _Layer

    def __call__(self, tokens: torch.Tensor, /) -> torch.Tensor: ...


class _PatchEmbed(Protocol):
    img_size: tuple[int, int]

    def __call__(self, batch: torch.Tensor, /) -> torch.Tensor: ...


class _ViT(Protocol):
    patch_embed: _PatchEmbed
    _pos_embed: _Layer
    patch_drop: _Layer
    norm_pre: _Layer
    blocks: Sequence[_Block]
    norm: _Layer
    forward_head: _Layer

    def __call__(self, batch: torch.Tensor, /) -> torch.Tensor: ...


def _vit(model: nn.Module) -> _ViT:
    return cast(_ViT, model)


def _stem(model: _ViT, batch: torch.Tensor) -> torch.Tensor:
    tokens = model.patch_embed(batch)
    tokens = model._pos_embed(tokens)
    tokens = model.patch_drop(tokens)
    tokens = model.norm_pre(tokens)
    for block in model.blocks[:-1]:
        tokens = block(tokens)
    return tokens


def _last_block_class_token(
    block: _Block, tokens: torch.Tensor, captured: list[torch.Tensor] | None
) -> torch.Tensor:
    attn = block.attn
    normed = block.norm1(tokens)
    if captured is not None:
        captured.append(normed)
    batch, count, _ = normed.shape
    heads, head_dim = attn.num_heads, attn.head_dim
    width = heads * head_dim
    weight, bias = attn.qkv.weight, attn.qkv.bias
    q = F.linear(normed[:, :1], weight[:width], None if bias is None else bias[:width])
    kv = F.linear(normed, weight[width:], None if bias is None else bias[width:])
    q = q.reshape(batch, 1, heads, head_dim).transpose(1, 2)
    k, v = kv.reshape(batch, count, 2, heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    q, k = attn.q_norm(q), attn.k_norm(k)
    out = F.scaled_dot_product_attention(q, k, v)
    out = out.transpose(1, 2).reshape(batch, 1, width)
    out = attn.proj_drop(attn.proj(attn.norm(out)))
    x = tokens[:, :1] + block.drop_path1(block.ls1(out))
    return x + block.drop_path2(block.ls2(block.mlp(block.norm2(x))))


def class_token_path_supported(model: nn.Module) -> bool:
    """Structural preconditions: a class-token ViT whose attention we can re-state."""
    attn = getattr(_vit(model).blocks[-1], "attn", None)
    return (
        getattr(model, "global_pool", None) == "token"
        and getattr(model, "num_prefix_tokens", None) == 1
        and attn is not None
        and getattr(attn, "gate", None) is None
        and all(
            hasattr(attn, name)
            for name in ("qkv", "q_norm", "k_norm", "proj", "norm", "num_heads", "head_dim")
        )
    )


def logits(model: nn.Module, batch: torch.Tensor, class_token_path: bool) -> torch.Tensor:
    """(B,) logits, no autograd."""
    vit = _vit(model)
    with torch.inference_mode():
        if not class_token_path:
            return vit(batch).reshape(-1)
        tokens = _last_block_class_token(vit.blocks[-1], _stem(vit, batch), None)
        return vit.forward_head(vit.norm(tokens)).reshape(-1)


def logits_and_activations(
    model: nn.Module, batch: torch.Tensor, class_token_path: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits, the last block's normalised input tokens, and d(logit)/d(those tokens).

    Blocks 0..n-2 run without autograd; only the last block is differentiated.
    """
    vit = _vit(model)
    with torch.no_grad():
        tokens = _stem(vit, batch)
    captured: list[torch.Tensor] = []
    with torch.enable_grad():
        tokens = tokens.detach().requires_grad_(True)
        last = vit.blocks[-1]
        if class_token_path:
            features = vit.norm(_last_block_class_token(last, tokens, captured))
        else:
            norm1 = cast(nn.Module, last.norm1)
            handle = norm1.register_forward_hook(lambda _m, _i, out: captured.append(out))
            try:
                features = vit.norm(last(tokens))
            finally:
                handle.remove()
        values = vit.forward_head(features).reshape(-1)
        (grads,) = torch.autograd.grad(values.sum(), captured[0])
    return values.detach(), captured[0].detach(), grads


def class_token_path_agrees(
    model: nn.Module, device: torch.device, tolerance: float = 1e-4
) -> bool:
    """Does the shortened forward reproduce timm's forward here? (one small random batch)"""
    if not class_token_path_supported(model):
        return False
    generator = torch.Generator().manual_seed(0)
    size = _vit(model).patch_embed.img_size
    sample = torch.randn(1, 3, *size, generator=generator).to(device)
    try:
        reference = logits(model, sample, class_token_path=False)
        shortened = logits(model, sample, class_token_path=True)
    except (RuntimeError, AttributeError, TypeError, ValueError):
        return False
    return bool(torch.allclose(reference, shortened, atol=tolerance, rtol=1e-5))


def logits_and_cams(
    model: nn.Module, batch: torch.Tensor, class_token_path: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward pass giving the logits and a (B, 24, 24) map in [0, 1] per image."""
    logits, acts, grads = logits_and_activations(model, batch, class_token_path)
    prefix = getattr(model, "num_prefix_tokens", 1)
    acts, grads = acts[:, prefix:, :], grads[:, prefix:, :]
    weights = grads.mean(dim=1, keepdim=True)
    cams = torch.relu((acts * weights).sum(dim=-1))
    side = round(cams.shape[1] ** 0.5)
    cams = cams.reshape(-1, side, side)
    peak = cams.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
    return logits, (cams / peak).float()
