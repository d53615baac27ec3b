"""Checkpoint layouts are read strictly; untrusted or broken files are refused clearly."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from opensight_desktop.detector.checkpoints import (
    FORMAT_HUB,
    FORMAT_STATE_DICT,
    FORMAT_TIMM,
    FORMAT_TRAINING,
    FORMAT_TRANSFORMERS,
    read_checkpoint,
)
from opensight_desktop.errors import ModelError
from tests import checkpoint_factory as cf


@pytest.fixture(scope="module")
def state():
    return cf.random_state(seed=5)


def _same(a, b):
    assert set(a) == set(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_hub_layout(state, tmp_path):
    checkpoint = read_checkpoint(cf.save_hub(state, tmp_path / "hub"))
    assert checkpoint.format == FORMAT_HUB
    assert checkpoint.preprocessing.resize_shorter == 440
    _same(checkpoint.state_dict, state)


@pytest.mark.parametrize(
    "prefix", ["vit.", "module.vit.", "_orig_mod.vit.", "module._orig_mod.vit."]
)
def test_training_checkpoint_with_wrapper_prefixes(state, tmp_path, prefix):
    checkpoint = read_checkpoint(cf.save_training(state, tmp_path / "ckpt.pt", prefix=prefix))
    assert checkpoint.format == FORMAT_TRAINING
    _same(checkpoint.state_dict, state)


@pytest.mark.parametrize("use_bin", [False, True])
def test_timm_layout(state, tmp_path, use_bin):
    checkpoint = read_checkpoint(cf.save_timm(state, tmp_path / "timm", use_bin=use_bin))
    assert checkpoint.format == FORMAT_TIMM
    assert checkpoint.preprocessing.resize_shorter == 440
    assert checkpoint.preprocessing.interpolation == "bilinear"
    _same(checkpoint.state_dict, state)


@pytest.mark.parametrize("v5", [False, True])
def test_transformers_layout_v4_and_v5_names(state, tmp_path, v5):
    checkpoint = read_checkpoint(cf.save_transformers(state, tmp_path / "hf", v5=v5))
    assert checkpoint.format == FORMAT_TRANSFORMERS
    assert checkpoint.preprocessing.crop_rounding == "floor"
    _same(checkpoint.state_dict, state)


def test_transformers_clip_normalisation_is_taken_from_its_config(state, tmp_path):
    clip = {
        "do_resize": True,
        "size": {"shortest_edge": 440},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": 384,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
    }
    checkpoint = read_checkpoint(cf.save_transformers(state, tmp_path / "hf", preprocessor=clip))
    assert checkpoint.preprocessing.mean == (0.48145466, 0.4578275, 0.40821073)
    assert checkpoint.preprocessing.interpolation == "bicubic"


def test_bare_safetensors_and_state_dict_files(state, tmp_path):
    save_file(state, str(tmp_path / "plain.safetensors"))
    _same(read_checkpoint(tmp_path / "plain.safetensors").state_dict, state)
    torch.save({f"vit.{k}": v for k, v in state.items()}, tmp_path / "weights.pth")
    checkpoint = read_checkpoint(tmp_path / "weights.pth")
    assert checkpoint.format == FORMAT_STATE_DICT
    _same(checkpoint.state_dict, state)


def test_half_precision_weights_are_used_as_float32(state, tmp_path):
    save_file({k: v.half() for k, v in state.items()}, str(tmp_path / "half.safetensors"))
    checkpoint = read_checkpoint(tmp_path / "half.safetensors")
    assert checkpoint.source_dtype == "float16"
    assert checkpoint.state_dict["head.weight"].dtype == torch.float32


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/opensight-pwned-by-checkpoint",))


def test_pickle_with_code_is_refused_without_running_it(tmp_path):
    import os

    marker = "/tmp/opensight-pwned-by-checkpoint"
    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"model": _Payload()}, handle, protocol=2)
    with pytest.raises(ModelError, match=r"refused.*(system|GLOBAL)"):
        read_checkpoint(path)
    assert not os.path.exists(marker)
    # the same inside torch's zip container
    torch.save({"model": {}}, tmp_path / "ok.pt")
    path2 = tmp_path / "evil2.pt"
    with open(path2, "wb") as handle:
        torch.save({"model": _Payload()}, handle)
    with pytest.raises(ModelError, match="refused"):
        read_checkpoint(path2)
    assert not os.path.exists(marker)


def test_wrong_shapes_are_named(state, tmp_path):
    bad = dict(state)
    bad["head.weight"] = torch.zeros(2, 384)
    bad["head.bias"] = torch.zeros(2)
    save_file(bad, str(tmp_path / "two_class.safetensors"))
    with pytest.raises(ModelError, match=r"head\.weight \[2, 384\] \(expected \[1, 384\]\)"):
        read_checkpoint(tmp_path / "two_class.safetensors")


def test_wrong_key_names_are_named(state, tmp_path):
    bad = {k.replace("blocks.3.", "layers.3."): v for k, v in state.items()}
    save_file(bad, str(tmp_path / "renamed.safetensors"))
    with pytest.raises(ModelError) as info:
        read_checkpoint(tmp_path / "renamed.safetensors")
    message = str(info.value)
    assert "missing" in message and "blocks.3." in message
    assert "unexpected" in message and "layers.3." in message


def test_imagenet_classifier_is_refused(tmp_path):
    import timm

    model = timm.create_model("vit_small_patch16_384", pretrained=False)
    save_file(model.state_dict(), str(tmp_path / "imagenet.safetensors"))
    with pytest.raises(ModelError, match="1-logit head"):
        read_checkpoint(tmp_path / "imagenet.safetensors")


def test_truncated_empty_and_garbage_files(state, tmp_path):
    save_file(state, str(tmp_path / "full.safetensors"))
    data = (tmp_path / "full.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 3])
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "noise.pt").write_bytes(b"\x00\x01garbage" * 100)
    (tmp_path / "list.pt").write_bytes(b"")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    for name, pattern in (
        ("cut.safetensors", "not a valid safetensors"),
        ("empty.safetensors", "empty"),
        ("noise.pt", "refused"),
        ("list.pt", "not a dictionary"),
    ):
        with pytest.raises(ModelError, match=pattern):
            read_checkpoint(tmp_path / name)


def test_bad_configs(state, tmp_path):
    folder = cf.save_timm(state, tmp_path / "timm")
    (folder / "config.json").write_text(json.dumps({"architecture": "resnet50", "num_classes": 1}))
    with pytest.raises(ModelError, match="not vit_small_patch16_384"):
        read_checkpoint(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_checkpoint(folder)
    hub = cf.save_hub(state, tmp_path / "hub")
    (hub / "config.json").write_text(json.dumps({"input_size": 224, "patch_size": 16}))
    with pytest.raises(ModelError, match="input_size is 224"):
        read_checkpoint(hub)
    with pytest.raises(ModelError, match="no such file"):
        read_checkpoint(tmp_path / "nothing-here")


# -- hostile checkpoints --------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights_are_refused(state, tmp_path, bad):
    weights = dict(state)
    weights["blocks.2.mlp.fc1.weight"] = state["blocks.2.mlp.fc1.weight"].clone()
    weights["blocks.2.mlp.fc1.weight"][3, 7] = bad
    save_file(weights, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ModelError, match=r"NaN or infinite.*blocks\.2\.mlp\.fc1\.weight"):
        read_checkpoint(tmp_path / "bad.safetensors")


def test_float64_beyond_float32_range_is_refused(state, tmp_path):
    weights = {k: v.double() for k, v in state.items()}
    weights["head.bias"] = torch.tensor([1e300], dtype=torch.float64)  # inf as float32
    torch.save(weights, tmp_path / "wide.pt")
    with pytest.raises(ModelError, match=r"NaN or infinite.*head\.bias"):
        read_checkpoint(tmp_path / "wide.pt")


def test_duplicate_name_in_safetensors_header_is_refused(state, tmp_path):
    path = cf.save_safetensors_with_duplicate(
        state, tmp_path / "dup.safetensors", "head.bias", "norm.bias"
    )
    with pytest.raises(ModelError, match=r"names 1 entry twice \(head\.bias\)"):
        read_checkpoint(path)


@pytest.mark.parametrize("training", [False, True])
def test_duplicate_name_in_pickle_is_refused(state, tmp_path, training):
    decoy = torch.full((1,), 7.0)
    if training:  # the same inside the authors' training-checkpoint layout
        inner = {f"vit.{k}": v for k, v in state.items()}
        path = cf.save_pickle_with_duplicate(
            {"model": inner}, tmp_path / "dup.pt", "vit.head.bias", decoy
        )
    else:
        path = cf.save_pickle_with_duplicate(state, tmp_path / "dup.pt", "head.bias", decoy)
    with pytest.raises(ModelError, match=r"twice \('(vit\.)?head\.bias'\)"):
        read_checkpoint(path)


def test_genuine_pickles_have_no_duplicates(state, tmp_path):
    # the walk over the opcodes must not see duplicates where there are none
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    _same(read_checkpoint(tmp_path / "legacy.pt").state_dict, state)
    path = cf.save_training(state, tmp_path / "ckpt.pt")
    _same(read_checkpoint(path).state_dict, state)


def test_wrapper_prefix_beside_plain_name_is_refused(state, tmp_path):
    weights = {**state, "module.head.bias": torch.full((1,), 7.0)}
    save_file(weights, str(tmp_path / "both.safetensors"))
    with pytest.raises(ModelError, match=r"same weight \(module\.head\.bias and head\.bias\)"):
        read_checkpoint(tmp_path / "both.safetensors")


def test_transformers_names_mapping_to_one_weight_are_refused(state, tmp_path):
    v4 = cf.to_transformers(state)
    cases = {
        # v4 and v5 names of one projection
        "vit.encoder.layer.0.attention.o_proj.weight": (
            v4["vit.encoder.layer.0.attention.output.dense.weight"] * 2
        ),
        # v4 and v5 names of one query
        "vit.encoder.layer.1.attention.q_proj.bias": (
            v4["vit.encoder.layer.1.attention.attention.query.bias"] * 2
        ),
        # a fused timm qkv beside the separate q, k, v it would be made of
        "blocks.2.attn.qkv.weight": state["blocks.2.attn.qkv.weight"] * 2,
    }
    for extra, value in cases.items():
        save_file({**v4, extra: value.contiguous()}, str(tmp_path / "hf.safetensors"))
        with pytest.raises(ModelError, match="same weight") as info:
            read_checkpoint(tmp_path / "hf.safetensors")
        assert extra in str(info.value)


def test_config_leading_outside_the_folder_is_refused(state, tmp_path):
    folder = cf.save_timm(state, tmp_path / "timm")
    outside = tmp_path / "outside.json"
    (folder / "config.json").rename(outside)
    (folder / "config.json").symlink_to("../outside.json")
    with pytest.raises(ModelError, match="outside the model's folder"):
        read_checkpoint(folder)


def test_weights_leading_outside_the_folder_are_refused(state, tmp_path):
    folder = cf.save_hub(state, tmp_path / "hub")
    (folder / "model.safetensors").rename(tmp_path / "elsewhere.safetensors")
    (folder / "model.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(ModelError, match="outside the model's folder"):
        read_checkpoint(folder)


def _without_hanging(function, *args):
    """Run ``function``; fail (instead of hanging the suite) if it blocks."""
    import threading

    outcome: list[BaseException | object] = []

    def target():
        try:
            outcome.append(function(*args))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    assert outcome, f"{function.__name__} blocked on a special file"
    return outcome[0]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("name", ["config.json", "preprocessor_config.json", "model.safetensors"])
@pytest.mark.parametrize("as_link", [False, True])
def test_special_files_are_refused_without_blocking(state, tmp_path, name, as_link):
    import os

    folder = cf.save_transformers(state, tmp_path / "hf")
    (folder / name).unlink()
    if as_link:
        os.mkfifo(folder / "pipe")
        (folder / name).symlink_to("pipe")
    else:
        os.mkfifo(folder / name)
    outcome = _without_hanging(read_checkpoint, folder)
    assert isinstance(outcome, ModelError), outcome
    assert "not a regular file" in str(outcome) and name in str(outcome)


def test_device_file_is_refused(tmp_path):
    import os

    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    outcome = _without_hanging(read_checkpoint, "/dev/zero")
    assert isinstance(outcome, ModelError), outcome
    assert "not a regular file" in str(outcome)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"image_std": [0, 0, 0]}, "above zero"),
        ({"image_mean": [float("nan")] * 3}, "not a usable number"),
        ({"crop_size": {"height": 224, "width": 224}}, "network takes 384x384"),
        ({"size": {"shortest_edge": 100}}, "outside 384"),
    ],
)
def test_unusable_preprocessing_is_refused(state, tmp_path, change, message):
    folder = cf.save_transformers(state, tmp_path / "hf")
    config = json.loads((folder / "preprocessor_config.json").read_text())
    (folder / "preprocessor_config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(ModelError, match=message):
        read_checkpoint(folder)


def test_config_naming_a_setting_twice_is_refused(state, tmp_path):
    folder = cf.save_hub(state, tmp_path / "hub")
    (folder / "config.json").write_text('{"input_size": 384, "patch_size": 16, "input_size": 224}')
    with pytest.raises(ModelError, match=r"names a setting twice \(input_size\)"):
        read_checkpoint(folder)


def test_every_file_read_is_hashed(state, tmp_path):
    import hashlib

    folder = cf.save_transformers(state, tmp_path / "hf")
    checkpoint = read_checkpoint(folder)
    assert set(checkpoint.files) == {
        "config.json",
        "preprocessor_config.json",
        "model.safetensors",
    }
    for name, file in checkpoint.files.items():
        data = (folder / name).read_bytes()
        assert (file.sha256, file.size) == (hashlib.sha256(data).hexdigest(), len(data))
