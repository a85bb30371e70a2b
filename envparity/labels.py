"""Label and role validation, at the door (capture, the CLI, the hook). Stdlib only.

Label keys are 1-64 characters of letters, digits and ``_ . - /``; label values and roles are
printable UTF-8 text of at most 256 characters. Anything else would end as a serialization error
far from its cause, or as a label no store, report or query can show. The check is at the doors,
not in the model: snapshots stored before it existed still load, and reports escape what they show.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, Union

from .errors import BadInput

_KEY = re.compile(r"[A-Za-z0-9_./-]{1,64}")
MAX_VALUE = 256


def _text_problem(value: object) -> str:
    if not isinstance(value, str):
        return "is not text"
    if len(value) > MAX_VALUE:
        return f"is {len(value)} characters long; at most {MAX_VALUE} are allowed"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if not value.isprintable():
        return "holds a control or non-printable character"
    return ""


def label_problems(labels: Mapping[str, str]) -> List[Tuple[str, str]]:
    """``(key, one-line problem)`` for each invalid label; empty when all are valid."""
    problems: List[Tuple[str, str]] = []
    for key, value in labels.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            problems.append(
                (
                    repr(key),
                    f"label key {key!r} must be 1-64 letters, digits or _ . - / (e.g. model=fraud)",
                )
            )
            continue
        why = _text_problem(value)
        if why:
            problems.append((key, f"label {key}: value {why}"))
    return problems


def valid_labels(labels: Mapping[str, str]) -> Dict[str, str]:
    """The labels that are valid (the hook drops the rest, logging each)."""
    bad = {k for k, _ in label_problems(labels)}
    return {k: v for k, v in labels.items() if repr(k) not in bad and k not in bad}


def shown(value: str, limit: int = 80) -> str:
    """``value`` as an error or log line may show it: repr'd (control characters and lone
    surrogates escaped) and cut to ``limit`` characters (a 1 MB variable is not logged whole)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'" + f" ({len(value)} chars)"


def utf8_text(text: str, source: str) -> str:
    """``text``, or BadInput when it holds lone surrogates (argv or environment bytes that were
    not UTF-8): no store and no spool file could hold a snapshot carrying it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        escaped = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        why = "not valid UTF-8 text; give it in UTF-8"
        raise BadInput(f"{source} {shown(escaped)}: {why}") from None
    return text


def parse_items(
    items: Iterable[str], source: str, problems: Optional[List[str]] = None
) -> Dict[str, str]:
    """``["k=v", ...]`` as a dict: the one label parser (CLI ``--label``, ``ENVPARITY_LABELS``,
    the hook and ``latest:k=v`` refs), so a label stored by one door is found by another.

    Keys and values are stripped of surrounding whitespace; empty items are skipped. A malformed
    item is a BadInput naming ``source``; with ``problems``, an item that is not valid UTF-8 is
    dropped (one line there) and the others are kept.
    """
    labels: Dict[str, str] = {}
    for item in items:
        item = str(item)
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"{source} {shown(item)}: expected KEY=VALUE, e.g. model=fraud")
        try:
            utf8_text(item, source)
        except BadInput as e:
            if problems is None:
                raise
            problems.append(f"label dropped: {e}")
            continue
        labels[key.strip()] = value.strip()
    return labels


def check_labels(labels: Mapping[str, str]) -> Dict[str, str]:
    """``labels`` as a dict (keys and values stripped, as :func:`parse_items` does), or BadInput
    naming the first invalid one."""
    labels = {
        (k.strip() if isinstance(k, str) else k): (v.strip() if isinstance(v, str) else v)
        for k, v in labels.items()
    }
    problems = label_problems(labels)
    if problems:
        raise BadInput(f"--label: {problems[0][1]}")
    return dict(labels)


def role_problem(role: str) -> str:
    """One line saying what is wrong with ``role``; empty when it is valid."""
    why = _text_problem(role)
    return f"the role {why}; use printable text, e.g. --role serving" if why else ""


def check_role(role: str) -> str:
    """``role``, or BadInput saying what is wrong with it."""
    why = role_problem(role)
    if why:
        raise BadInput(f"--role: {why}")
    return role


LabelsArg = Union[None, str, Mapping[str, str], List[str]]


def parse_labels(
    value: LabelsArg, source: str, problems: Optional[List[str]] = None
) -> Dict[str, str]:
    """``"k=v,k2=v2"``, ``["k=v", ...]`` or a mapping, as a dict; BadInput names ``source``.

    Text that is not valid UTF-8 (bytes from the environment or argv that were not) is refused:
    no store and no spool file could hold a snapshot carrying it. With ``problems``, such a
    label is dropped (one line there) and the others are kept.
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = [f"{k}={v}" for k, v in value.items()]
    else:
        items = value.split(",") if isinstance(value, str) else list(value)
    return parse_items(items, source, problems)
