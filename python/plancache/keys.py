"""The plan key of plancache, computed in Python (key format versions 1 and 2).

`key_for(goal, context, namespace)` returns the same 64-hex-digit key the
server answers for the same plan (`"key"` of every plan endpoint), following
docs/key_format.md byte for byte:

1. goal: strict UTF-8 without NUL, Unicode NFC (`unicodedata`), every run of
   `White_Space` code points replaced by one space, trimmed, never truncated;
2. context: the canonical JSON text (no whitespace, object members sorted by
   the UTF-8 bytes of their names, RFC 8785 strings and numbers, integers of
   int64/uint64 exact; the server's `ignored_context_fields` dropped);
3. key material `"plancache-key-v1\\n"` + netstring(namespace) +
   netstring(goal) + netstring(context), hashed with SHA-256.

For a lane with key rules of its own (`key_ignored_fields`,
`key_set_arrays` in its `[namespaces.<name>]` table), pass them too: the
context then drops those members as well and sorts its set arrays, and the
key material is version 2 (`"plancache-key-v2\\n"`, the same three
netstrings, then netstring(the rules' canonical text); docs/key_format.md §6).

Only the `sha256` digest (the server's default `--hash`) is available: the
standard library has no XXH3.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

__all__ = [
    "KEY_FORMAT_VERSION",
    "KEY_FORMAT_VERSION_WITH_RULES",
    "key_for",
    "key_material",
    "rules_text",
    "normalize_goal",
    "canonical_json",
    "validate_namespace",
]

KEY_FORMAT_VERSION = 1
"""The key format of keys without lane rules (`kKeyFormatVersion`)."""

KEY_FORMAT_VERSION_WITH_RULES = 2
"""The key format of keys with lane rules (`kKeyFormatVersionWithRules`)."""

MAX_CONTEXT_DEPTH = 128
"""Deepest nesting of arrays and objects a context may have (`[[1]]` is 2)."""

# The code points with the Unicode White_Space property (docs/key_format.md §1).
_WHITE_SPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_WHITE_SPACE_RUN = re.compile("[" + re.escape(_WHITE_SPACE) + "]+")
_NAMESPACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")

_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1

# JSON string escapes of RFC 8785: the short forms, \u00xx for other controls.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
for _c in range(0x20):
    _ESCAPES.setdefault(chr(_c), "\\u%04x" % _c)
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f]')


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("%s is not valid UTF-8 (lone surrogate at index %d)" % (what, e.start)) from None


def normalize_goal(goal: str | bytes) -> str:
    """The normalised goal: NFC, whitespace runs collapsed to one space, trimmed.

    `goal` is text, or UTF-8 bytes (decoded strictly). Raises ValueError when
    the goal is not valid UTF-8, contains NUL, or is empty once normalised,
    with the server's messages.
    """
    if isinstance(goal, (bytes, bytearray)):
        try:
            goal = bytes(goal).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError("goal is not valid UTF-8 (bad byte at offset %d)" % e.start) from None
    if not isinstance(goal, str):
        raise TypeError("goal must be str or bytes, not %s" % type(goal).__name__)
    _utf8(goal, "goal")
    nul = goal.find("\0")
    if nul >= 0:
        raise ValueError("goal must not contain NUL bytes (NUL at offset %d)"
                         % len(goal[:nul].encode("utf-8")))
    text = _WHITE_SPACE_RUN.sub(" ", unicodedata.normalize("NFC", goal)).strip(" ")
    if not text:
        raise ValueError("goal must not be empty")
    return text


def _number(value: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3)."""
    if value == 0:
        return "0"
    if value < 0:
        return "-" + _number(-value)
    # repr() is the shortest digit string that round-trips (as in ECMAScript).
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent = int(exponent) + (len(digit_tuple) - len(digits))
    k = len(digits)
    n = k + exponent  # position of the decimal point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return "%se%s%d" % (mantissa, "+" if e >= 0 else "-", abs(e))


def _string(text: str) -> str:
    _utf8(text, "context string")
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text) + '"'


class _Rules:
    """What the canonical text drops (member names) and sorts (set arrays)."""

    __slots__ = ("ignored", "sets")

    def __init__(self, ignored: Iterable[str] = (), sets: Optional[Mapping[str, str]] = None):
        self.ignored = frozenset(ignored)
        self.sets = dict(sets or {})


_NO_RULES = _Rules()


def _write(value: Any, depth: int, out: list[str], rules: _Rules = _NO_RULES) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if _INT64_MIN <= value <= _UINT64_MAX:
            out.append(str(int(value)))
        else:  # too big for int64/uint64: read as a double, as the server does
            try:
                out.append(_number(float(value)))
            except OverflowError:
                raise ValueError("context number %d overflows a double" % value) from None
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("context number %r is not valid JSON" % value)
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (list, tuple)):
        if depth >= MAX_CONTEXT_DEPTH:
            raise ValueError("context nests deeper than %d levels" % MAX_CONTEXT_DEPTH)
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, depth + 1, out, rules)
        out.append("]")
    elif isinstance(value, dict):
        _write_object(value, depth, out, rules)
    else:
        raise TypeError("context value of type %s is not JSON" % type(value).__name__)


def _write_object(value: dict, depth: int, out: list[str], rules: _Rules) -> None:
    if depth >= MAX_CONTEXT_DEPTH:
        raise ValueError("context nests deeper than %d levels" % MAX_CONTEXT_DEPTH)
    for name in value:
        if not isinstance(name, str):
            raise TypeError("context object keys must be str, not %s" % type(name).__name__)
    out.append("{")
    first = True
    for name in sorted(value, key=lambda s: _utf8(s, "context key")):
        if name in rules.ignored:
            continue
        if not first:
            out.append(",")
        first = False
        out.append(_string(name))
        out.append(":")
        _write_member(name, value[name], depth + 1, out, rules)
    out.append("}")


def _write_member(name: str, value: Any, depth: int, out: list[str], rules: _Rules) -> None:
    """A member's value: sorted when it is an array the set-array rules name."""
    if name in rules.sets and isinstance(value, (list, tuple)):
        _write_set(value, rules.sets[name], depth, out, rules)
    else:
        _write(value, depth, out, rules)


def _text(write: Callable[[list[str]], None]) -> bytes:
    out: list[str] = []
    write(out)
    return "".join(out).encode("utf-8")


def _write_set(items: Sequence[Any], member: str, depth: int, out: list[str],
               rules: _Rules) -> None:
    """A set array (docs/key_format.md §6): elements with the sort member
    first, by its canonical text, then the others; ties by the whole text."""
    if depth >= MAX_CONTEXT_DEPTH:
        raise ValueError("context nests deeper than %d levels" % MAX_CONTEXT_DEPTH)
    keyed = []
    for item in items:
        text = _text(lambda o, v=item: _write(v, depth + 1, o, rules))
        if member and isinstance(item, dict) and member in item and member not in rules.ignored:
            member_text = _text(
                lambda o, v=item[member]: _write_member(member, v, depth + 2, o, rules))
            keyed.append((0, member_text, text))
        else:
            keyed.append((1, b"", text))
    keyed.sort()
    out.append("[" + ",".join(text.decode("utf-8") for _, _, text in keyed) + "]")


def canonical_json(value: Any, ignored_fields: Iterable[str] = (),
                   set_arrays: Optional[Mapping[str, str]] = None) -> str:
    """The canonical JSON text of a JSON value (docs/key_format.md §2).

    `value` is what `json.loads` gives (None, bool, int, float, str, list,
    dict; tuples count as arrays). Members named in `ignored_fields` are
    dropped at every depth; arrays under members named in `set_arrays` are
    sorted ({array member: sort member}, "" = by the element's text; §6).
    Raises ValueError (NaN, infinities, lone surrogates, nesting deeper than
    128) or TypeError (not a JSON value).
    """
    out: list[str] = []
    _write(value, 0, out, _Rules(ignored_fields, set_arrays))
    return "".join(out)


def validate_namespace(namespace: str) -> str:
    """Returns `namespace` if it is a valid name (1-64 of A-Z a-z 0-9 _ . -,
    not starting with . or -); raises ValueError otherwise."""
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise ValueError("invalid namespace name %r: 1-64 characters of A-Z a-z 0-9 _ . -, "
                         "not starting with '.' or '-'" % (namespace,))
    return namespace


def _netstring(data: bytes) -> bytes:
    return b"%d:%s," % (len(data), data)


def _names(names: Iterable[str], what: str) -> list[str]:
    if isinstance(names, str):
        raise TypeError("%s must be a list of member names, not a str" % what)
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError("%s: member names must be non-empty str, got %r" % (what, name))
        _utf8(name, what)
    return names


def rules_text(ignored_context_fields: Iterable[str] = (), key_ignored_fields: Iterable[str] = (),
               key_set_arrays: Optional[Mapping[str, str]] = None) -> str:
    """The canonical text of a lane's key rules that version-2 key material
    ends with (docs/key_format.md §6), or "" when the lane has no rules."""
    lane_ignored = _names(key_ignored_fields, "key_ignored_fields")
    sets = dict(key_set_arrays or {})
    _names(sets, "key_set_arrays")
    for member in sets.values():
        if not isinstance(member, str):
            raise TypeError("key_set_arrays: sort members must be str, got %r" % (member,))
    if not lane_ignored and not sets:
        return ""
    ignored = set(_names(ignored_context_fields, "ignored_context_fields")) | set(lane_ignored)
    return canonical_json({"ignored_fields": sorted(ignored, key=lambda s: s.encode("utf-8")),
                           "set_arrays": sets})


def key_material(goal: str | bytes, context: Any = None, namespace: str = "default", *,
                 ignored_context_fields: Iterable[str] = (),
                 key_ignored_fields: Iterable[str] = (),
                 key_set_arrays: Optional[Mapping[str, str]] = None) -> bytes:
    """The bytes the key is the digest of (docs/key_format.md §3, and §6 with lane rules)."""
    server_ignored, lane_ignored = list(ignored_context_fields), list(key_ignored_fields)
    rules = rules_text(server_ignored, lane_ignored, key_set_arrays)
    ignored = server_ignored + lane_ignored
    context_text = canonical_json(context, ignored, key_set_arrays)
    material = (b"plancache-key-v%d\n"
                % (KEY_FORMAT_VERSION_WITH_RULES if rules else KEY_FORMAT_VERSION)
                + _netstring(validate_namespace(namespace).encode("ascii"))
                + _netstring(normalize_goal(goal).encode("utf-8"))
                + _netstring(context_text.encode("utf-8")))
    return material + _netstring(rules.encode("utf-8")) if rules else material


def key_for(goal: str | bytes, context: Any = None, namespace: str = "default", *,
            ignored_context_fields: Iterable[str] = (), key_ignored_fields: Iterable[str] = (),
            key_set_arrays: Optional[Mapping[str, str]] = None) -> str:
    """The server's plan key of (namespace, goal, context), as 64 lowercase hex digits.

    Equal to the `"key"` the server answers for the same plan when it runs
    with the default `--hash sha256`. `context` is a JSON value (None, the
    default, is JSON `null`, as when the request has no context). The
    keyword arguments are the server's settings of the same names: its
    `ignored_context_fields`, and the lane's `key_ignored_fields` and
    `key_set_arrays` (from its `[namespaces.<name>]` table); a lane with
    either of the last two has keys of key format version 2.

    >>> key_for("hello world")
    '69bd9ecfb8e31e6215d3b325226779aba9ca0836248d8cd0635ee5c19f364119'
    """
    return hashlib.sha256(key_material(
        goal, context, namespace, ignored_context_fields=ignored_context_fields,
        key_ignored_fields=key_ignored_fields, key_set_arrays=key_set_arrays)).hexdigest()
