"""C2PA / Content Credentials: find a manifest, validate it offline, list AI assertions.

Validation uses the maintained c2pa-python (the reference C2PA SDK) with remote manifest
fetches and OCSP look-ups switched off: nothing leaves the machine. Validity (the
signature and the hashes bind the manifest to these bytes) and trust (the signer chains
to a trust list) are reported separately; no trust list is configured, so a valid
manifest's signer is reported as not established.
"""

from __future__ import annotations

import io
import json
from typing import Any

AI_SOURCE_TYPES = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "algorithmicMedia",
    "compositeSynthetic",
)
_MIME = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "HEIF": "image/heif",
    "GIF": "image/gif",
}


def has_manifest_marker(data: bytes) -> bool:
    """A JUMBF superbox labelled c2pa (JPEG APP11, PNG caBX, WebP/HEIF/TIFF boxes)."""
    return b"jumb" in data and b"c2pa" in data


def read_manifest(data: bytes, sniffed: str) -> dict[str, Any] | None:
    if not has_manifest_marker(data):
        return None
    mime = _MIME.get(sniffed)
    if mime is None:
        return {"present": True, "valid": None, "error": f"C2PA not readable in {sniffed} files"}
    if sniffed == "HEIF" and b"ftypavif" in data[:32]:
        mime = "image/avif"
    try:
        import c2pa
    except ImportError:  # pragma: no cover - a declared dependency
        return {"present": True, "valid": None, "error": "c2pa-python is not installed"}
    try:
        settings = c2pa.Settings.from_dict(
            {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
        )
        context = c2pa.Context(settings)
        try:
            with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state()
        finally:
            context.close()
    except Exception as exc:  # c2pa raises C2paError subclasses, and others on damage
        text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return {"present": True, "valid": False, "error": f"manifest unreadable: {text}"}
    return summarise(store, str(state))


def summarise(store: dict[str, Any], state: str) -> dict[str, Any]:
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    statuses = [s.get("code", "") for s in store.get("validation_status", []) or []]
    failures = [c for c in statuses if c and c != "signingCredential.untrusted"]
    generator = active.get("claim_generator") or ", ".join(
        " ".join(str(v) for v in (g.get("name"), g.get("version")) if v)
        for g in active.get("claim_generator_info", []) or []
    )
    signature = active.get("signature_info", {}) or {}
    ai: set[str] = set()
    actions = []
    for assertion in active.get("assertions", []) or []:
        label = str(assertion.get("label", ""))
        data = assertion.get("data", {}) or {}
        if label.startswith("c2pa.actions"):
            for action in data.get("actions", []) or []:
                source = str(action.get("digitalSourceType", ""))
                actions.append(
                    {
                        "action": action.get("action"),
                        "digitalSourceType": source or None,
                        "softwareAgent": _agent(action.get("softwareAgent")),
                    }
                )
        for text in _find_source_types(data):
            if text.rsplit("/", 1)[-1] in AI_SOURCE_TYPES:
                ai.add(text.rsplit("/", 1)[-1])
    return {
        "present": True,
        "validation_state": state,
        "valid": state in ("Valid", "Trusted") and not failures,
        "trusted": state == "Trusted",
        "trust": "signer on a trust list"
        if state == "Trusted"
        else "not established (no C2PA trust list is configured on this workstation)",
        "failures": failures,
        "claim_generator": generator or None,
        "title": active.get("title"),
        "signer": signature.get("issuer") or signature.get("common_name"),
        "signed_time": signature.get("time"),
        "actions": actions[:50],
        "ai_assertions": sorted(ai),
        "manifests": len(store.get("manifests", {}) or {}),
    }


def _agent(value: object) -> str | None:
    if isinstance(value, dict):
        return " ".join(str(v) for v in (value.get("name"), value.get("version")) if v) or None
    return str(value) if value else None


def _find_source_types(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [str(v) for k, v in value.items() if k.lower().endswith("digitalsourcetype")]
        return found + [t for v in value.values() for t in _find_source_types(v)]
    if isinstance(value, list):
        return [t for v in value for t in _find_source_types(v)]
    return []
