"""A PEP 751 ``pylock.toml``: each package with the artifact that installs it and its hash.

A snapshot records name and version, not the file that was installed, so each exact version is
resolved here to the wheels the sources offer (``--find-links``, ``--index-url``, else pip's
configuration) that can run on the baseline's Python and platform; a package none offers is an
error naming it. VCS installs become ``[packages.vcs]`` and local ones ``[packages.directory]``,
which need no index.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from .interface import Exporter, ExportError, Selection
from .requirements import is_archive
from .sources import Artifact, Finder, pip_configuration

if TYPE_CHECKING:
    from ..model import Package, Snapshot


def _toml(value: Any) -> str:
    """A TOML value: JSON's string escapes are valid TOML basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _table(header: str, fields: Dict[str, Any]) -> List[str]:
    return [header] + [f"{k} = {_toml(v)}" for k, v in fields.items() if v is not None]


def _python_tags(snapshot: Snapshot) -> Tuple[int, int]:
    parts = (snapshot.python.version.split(".") + ["0", "0"])[:2]
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        return 3, 0


_SYSTEM_PLATFORMS = {"linux": ("linux",), "darwin": ("macosx",), "windows": ("win",)}


def _runs_on(tags: Any, snapshot: Snapshot) -> bool:
    """True when a wheel with ``tags`` installs on the baseline's interpreter and platform."""
    major, minor = _python_tags(snapshot)
    arch = (snapshot.platform.arch or "").lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    system = (snapshot.platform.system or "").lower()
    for tag in tags:
        interp = tag.interpreter
        python_ok = interp in (f"py{major}", f"py{major}{minor}", f"cp{major}{minor}") or (
            tag.abi == "abi3"
            and interp.startswith(f"cp{major}")
            and interp[2 + len(str(major)) :].isdigit()
            and int(interp[2 + len(str(major)) :]) <= minor
        )
        if not python_ok:
            continue
        platform = tag.platform
        if platform == "any":
            return True
        prefixes = _SYSTEM_PLATFORMS.get(system)
        if prefixes and not any(p in platform for p in prefixes):
            continue
        if arch and arch not in platform and not (arch == "aarch64" and "arm64" in platform):
            if not platform.endswith("universal2"):
                continue
        return True
    return False


def _wheels(finder: Finder, package: Package, snapshot: Snapshot) -> List[Artifact]:
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import InvalidVersion, Version

    try:
        wanted = Version(package.version)
    except InvalidVersion:
        raise ExportError(
            f"{package.name} {package.version}: not a PEP 440 version, so no index serves it; "
            "export --format requirements and pin it by hand"
        ) from None
    found: Dict[str, Artifact] = {}
    for artifact in finder.candidates(package.name):
        try:
            name, version, _build, tags = parse_wheel_filename(artifact.filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if canonicalize_name(name) != canonicalize_name(package.name) or version != wanted:
            continue
        if _runs_on(tags, snapshot) and artifact.filename not in found:
            found[artifact.filename] = artifact
    return [Finder.hashed(found[f]) for f in sorted(found)]


def _path(url: str) -> Optional[str]:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return urllib.request.url2pathname(parsed.path)
    return None


def _package_lines(package: Package, finder: Finder, snapshot: Snapshot) -> List[str]:
    lines = ["", "[[packages]]", f"name = {_toml(package.name)}"]
    if package.url and package.vcs:
        url = package.url
        if url.startswith(f"{package.vcs}+"):
            url = url[len(package.vcs) + 1 :]
        lines += [f"version = {_toml(package.version)}", ""]
        lines += _table(
            "[packages.vcs]",
            {"type": package.vcs, "url": url, "commit-id": package.commit or None},
        )
        return lines
    if package.url and _path(package.url) and not is_archive(package):
        lines += [f"version = {_toml(package.version)}", ""]
        lines += _table(
            "[packages.directory]",
            {"path": _path(package.url), "editable": package.editable},
        )
        return lines
    wheels = _wheels(finder, package, snapshot)
    if not wheels:
        where = ", ".join(finder.sources) or "no source configured"
        problems = f"; {'; '.join(finder.problems)}" if finder.problems else ""
        raise ExportError(
            f"{package.name}=={package.version}: no wheel for Python {snapshot.python.version} "
            f"on {snapshot.platform.system or '?'} {snapshot.platform.arch or '?'} in {where}"
            f"{problems}; give --find-links DIR or --index-url URL that has it"
        )
    lines.append(f"version = {_toml(package.version)}")
    for wheel in wheels:
        lines += [""] + _table(
            "[[packages.wheels]]",
            {
                "name": wheel.filename,
                "url": wheel.url,
                "path": wheel.path,
                "hashes": {"sha256": wheel.sha256},
            },
        )
    return lines


class PylockExporter(Exporter):
    """PEP 751, lock-version 1.0."""

    name = "pylock"

    def __init__(
        self, find_links: Sequence[str] = (), index_urls: Sequence[str] = ()
    ) -> None:
        self.find_links = list(find_links)
        self.index_urls = list(index_urls)

    def render(self, selection: Selection) -> str:
        from .interface import header

        find_links, index_urls = self.find_links, self.index_urls
        if not find_links and not index_urls:
            find_links, index_urls = pip_configuration()
        finder = Finder(find_links, index_urls)
        snap = selection.snapshot
        major, minor = _python_tags(snap)
        lines = header(selection) + [
            'lock-version = "1.0"',
            f"requires-python = {_toml(f'=={major}.{minor}.*')}",
            'created-by = "envparity"',
        ]
        for package in selection.packages:
            lines += _package_lines(package, finder, snap)
        return "\n".join(lines) + "\n"
