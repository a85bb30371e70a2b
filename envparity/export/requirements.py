"""pip requirements and constraints files.

Requirements pin ``name==version`` with the local label kept (``torch==2.7.1+cu128``); a VCS or
editable origin becomes a PEP 508 direct reference, because no index serves that build. So does
one archive file (``pip install ./x.whl``: ``name @ file:///.../x.whl``, as ``pip freeze`` writes
it), unless ``--find-links`` names where the same wheel is found by version. pip's constraints
files take only plain specifiers, so there a direct-URL package is pinned by version with a
comment naming its origin.

No line is ever one pip obeys as an option: a name that is not PEP 508, a version that is not
PEP 440 or a URL that is not one PEP 508 direct reference is written as a comment, and every
comment has its control characters (a newline among them) written visibly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Optional, Sequence

from .interface import Exporter, Selection, header

if TYPE_CHECKING:
    from ..model import Package


_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")
# PEP 508's name rule (https://peps.python.org/pep-0508/#names).
_PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def is_archive(package: Package) -> bool:
    """True when the origin is one wheel or sdist file (``pip install ./x.whl``): the version
    pins the same build from an index, and the file itself may long be gone."""
    return bool(package.url and not package.vcs and package.url.lower().endswith(_ARCHIVES))


def direct_reference(package: Package) -> Optional[str]:
    """The URL a VCS, local-directory or editable install came from, as pip reads it; None for
    a package from an index or from one archive file."""
    if not package.url or is_archive(package):
        return None
    url = package.url
    if package.vcs:
        if not url.startswith(f"{package.vcs}+"):
            url = f"{package.vcs}+{url}"
        if package.commit:
            url = f"{url}@{package.commit}"
    return url


def pinnable(version: str) -> bool:
    """True when pip can pin ``version`` with ``==`` (PEP 440)."""
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def valid_name(name: str) -> bool:
    """True when ``name`` is a PEP 508 project name (what pip reads as one, never an option)."""
    return bool(_PEP508_NAME.match(name))


def valid_reference(name: str, url: str) -> bool:
    """True when ``name @ url`` is one PEP 508 requirement pip reads as such: no whitespace,
    control character or backslash (pip's line continuation) in the URL, and ``packaging``
    parses it with this name and this URL."""
    from packaging.requirements import InvalidRequirement, Requirement

    if not url or any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        return False
    try:
        parsed = Requirement(f"{name} @ {url}")
    except InvalidRequirement:
        return False
    return parsed.url == url and parsed.name == name


def comment(text: str) -> str:
    """A comment line pip skips whatever ``text`` holds: control characters (a newline that would
    start a line of its own) written visibly."""
    from ..report.escape import printable

    return "# " + printable(text)


def _pin(package: Package) -> str:
    if not valid_name(package.name):
        return comment(f"{package.name} {package.version}: not a PEP 508 name; left out")
    if not pinnable(package.version):
        # A distro build such as 1.1build1: pip cannot pin it, so say so rather than write a line
        # that makes `pip install -r` fail on parsing.
        return comment(f"{package.name} {package.version}: not a PEP 440 version; pin it by hand")
    return f"{package.name}=={package.version}"


def _reference(package: Package, reference: str) -> str:
    if valid_name(package.name) and valid_reference(package.name, reference):
        return f"{package.name} @ {reference}"
    return comment(f"{package.name} @ {reference}: not a PEP 508 direct reference; left out")


def _footer(selection: Selection) -> List[str]:
    if not selection.extra:
        return []
    return [comment("Not in the baseline (uninstall to match): " + ", ".join(selection.extra))]


class RequirementsExporter(Exporter):
    """``pip install -r`` input."""

    name = "requirements"

    def __init__(self, find_links: Sequence[str] = ()) -> None:
        #: Where archive origins are found by version instead (``--find-links``).
        self.find_links = list(find_links)

    def _reference(self, package: Package) -> Optional[str]:
        reference = direct_reference(package)
        if reference is None and is_archive(package) and not self.find_links:
            return package.url  # the file it was installed from: the same build, whatever index
        return reference

    def render(self, selection: Selection) -> str:
        lines = header(selection)
        if self.find_links:
            lines.append("# Archive origins pinned by version: install with --find-links " + (
                " --find-links ".join(self.find_links)))
        for p in selection.packages:
            reference = self._reference(p)
            if reference is None:
                lines.append(_pin(p))
            else:
                note = " (editable in the baseline)" if p.editable else ""
                if is_archive(p):
                    note = " (installed from this file in the baseline)"
                lines.append(comment(f"{p.name} {p.version}{note}"))
                lines.append(_reference(p, reference))
        return "\n".join(lines + _footer(selection)) + "\n"


class ConstraintsExporter(Exporter):
    """``pip install -c`` input: versions only (pip refuses URLs and editables there)."""

    name = "constraints"

    def render(self, selection: Selection) -> str:
        lines = header(selection)
        for p in selection.packages:
            reference = direct_reference(p)
            if reference is not None:
                lines.append(comment(f"{p.name} came from {reference}"))
            lines.append(_pin(p))
        return "\n".join(lines + _footer(selection)) + "\n"
