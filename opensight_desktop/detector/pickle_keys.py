"""Keys that a pickle sets twice on one dictionary (unpickling lets the last one win).

A genuine ``torch.save`` never writes a key twice, but a crafted checkpoint can hold two
tensors under one name, and ``torch.load`` would silently keep the second. This walks the
pickle's opcodes with :func:`pickletools.genops` (a parser: nothing is built or run),
tracking just enough of the unpickler's stack to know which keys go into which dict.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from typing import IO

# Opcodes whose argument is the value pushed: the kinds of value a dict key can be here.
_LITERALS = {
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
}  # fmt: skip
_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}
# torch's legacy (pre-zip) format: magic number, protocol, system info, then the object.
_LEGACY_PICKLES = 4


class _Object:
    """An opaque value on the simulated stack; a dict remembers its keys."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: set[object] = set()


class _Mark:
    pass


_MARK = _Mark()


def duplicate_keys_in_checkpoint(data: bytes) -> list[str]:
    """Duplicate dict keys in a torch checkpoint (zip or legacy format), as text.

    Raises ValueError when the pickle cannot be walked."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if len(names) != 1:
                raise ValueError("the archive does not hold exactly one data.pkl")
            return duplicate_keys(io.BytesIO(archive.read(names[0])))
    stream = io.BytesIO(data)
    found: list[str] = []
    for _ in range(_LEGACY_PICKLES):
        found += duplicate_keys(stream)
    return found


def duplicate_keys(stream: IO[bytes]) -> list[str]:
    """Keys set more than once on the same dict by the pickle at the stream's position
    (read up to its STOP opcode). Raises ValueError when it cannot be walked."""
    walker = _Walker()
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            walker.step(opcode, arg)
            if opcode.name == "STOP":
                break
    except (IndexError, KeyError) as exc:
        raise ValueError(f"malformed pickle ({type(exc).__name__})") from exc
    return walker.found


class _Walker:
    """The unpickler's stack, marks and memo, with opaque stand-ins for built objects."""

    def __init__(self) -> None:
        self.stack: list[object] = []  # literals (keys) and _Object stand-ins
        self.marks: list[int] = []
        self.memo: dict[object, object] = {}
        self.found: list[str] = []

    def step(self, opcode: pickletools.OpcodeInfo, arg: object) -> None:
        name, stack = opcode.name, self.stack
        if name == "MARK":
            self.marks.append(len(stack))
        elif name in _MEMO_PUT:
            self.memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = stack[-1]
        elif name in _MEMO_GET:
            stack.append(self.memo[arg])
        elif name == "DUP":
            stack.append(stack[-1])
        elif name == "SETITEM":
            key = stack[-2]
            del stack[-2:]
            self._set_keys(stack[-1], [key])
        elif name == "SETITEMS":
            items = self._to_mark()
            self._set_keys(stack[-1], items[0::2])
        elif name == "DICT":
            items = self._to_mark()
            target = _Object()
            self._set_keys(target, items[0::2])
            stack.append(target)
        else:
            before = [entry.name for entry in opcode.stack_before]
            if "mark" in before:
                self._to_mark()
                count = before.index("mark")
            else:
                count = len(before)
            if count > len(stack):
                raise IndexError("pop from a short stack")
            del stack[len(stack) - count :]
            if name in _LITERALS:
                stack.append(arg)
            else:
                stack.extend(_Object() for _ in opcode.stack_after)

    def _to_mark(self) -> list[object]:
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def _set_keys(self, target: object, keys: list[object]) -> None:
        if not isinstance(target, _Object):
            return
        for key in keys:
            if key in target.keys:
                self.found.append(repr(key))
            target.keys.add(key)
