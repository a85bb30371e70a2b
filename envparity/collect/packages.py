"""Installed distributions, as the interpreter's own ``pip list`` sees them. Stdlib only.

Discovery is importlib.metadata's; each dist-info is then read defensively, because one broken
distribution (no METADATA, non-UTF-8 bytes, no Name, the ``~pkg`` residue of an interrupted
install) must never stop the scan: it is named in ``collection.errors`` and skipped.

Each distribution's identity is its content (schema 3): a digest over the files its RECORD lists
(path relative to the install root, and hash), without what installers write differently
(INSTALLER, REQUESTED, direct_url.json, RECORD itself, byte code, files outside the install root
such as console scripts). The same wheel installed by pip or uv, from the index or from a local
file, has one digest. The one pass that reads RECORD also yields each distribution's top-level
import names (:func:`module_owners`). A digest is remembered between runs by its RECORD's path,
size and modification time (:mod:`envparity.collect.digests`): an unchanged distribution's RECORD
is read again only when its lines are asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..distnames import unsafe
from ..redact import redact_url
from .conda import conda_packages
from .digests import DigestCache
from .interface import Context

PROBE = "packages"
_NORMALIZE = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return _NORMALIZE.sub("-", name).lower()


_REQ_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_MARKER = re.compile(r";.*\bextra\s*==")


def _headers(text: str) -> Tuple[Dict[str, str], List[str]]:
    # Name, Version and Requires-Dist sit in the header block: stopping at the first blank line
    # skips the long description, which is most of the file and most of the parse time when
    # email.parser reads the whole message.
    found: Dict[str, str] = {}
    requires: List[str] = []
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if not sep:
            continue
        lower = key.lower()
        if lower in ("name", "version") and lower not in found:
            found[lower] = value.strip()
        elif lower == "requires-dist" and not _EXTRA_MARKER.search(value):
            match = _REQ_NAME.match(value)
            if match:
                requires.append(normalize(match.group(1)))
    return found, requires


def _read_text(dist: Any, name: str, head: bool = False) -> Optional[str]:
    """``dist.read_text(name)``, opened directly for a dist-info directory (pathlib and
    importlib.metadata's wrappers cost more than the read). ``head``: up to the first blank line
    (the metadata header block), without reading a long description."""
    base = getattr(dist, "_path", None)
    if not isinstance(base, os.PathLike):
        return dist.read_text(name)  # type: ignore[no-any-return]
    try:
        with open(f"{os.fspath(base)}{os.sep}{name}", "rb") as f:
            data = f.read(16384) if head else f.read()
            if head and b"\n\n" not in data and len(data) == 16384:
                data += f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    if head:
        end = data.find(b"\n\n")
        data = data if end < 0 else data[: end + 1]
    return data.decode("utf-8")


def _wheel(dist: Any, info: Dict[str, Any]) -> Dict[str, Any]:
    """Build provenance from the WHEEL file and direct_url.json."""
    text = _read_text(dist, "WHEEL")
    if not text:
        return {}
    tags: List[str] = []
    purelib: Optional[bool] = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key.strip().lower() == "tag":
            tags.append(value.strip())
        elif key.strip().lower() == "root-is-purelib":
            purelib = value.strip().lower() == "true"
    # Built here from source: a platform tag no index serves (pip's own build of an sdist on
    # Linux is tagged linux_<arch>; indexes serve manylinux/musllinux), or installed from a local
    # directory or a source archive.
    built = any(t.rsplit("-", 1)[-1].startswith("linux_") for t in tags)
    source = info.get("_source")
    if source in ("dir", "sdist"):
        built = True
    return {"wheel_tags": sorted(tags), "root_is_purelib": purelib, "built_locally": built}


def _direct_url(dist: Any) -> Dict[str, Any]:
    text = _read_text(dist, "direct_url.json")
    if not text:
        return {}
    data = json.loads(text)
    info: Dict[str, Any] = {}
    if data.get("url"):
        info["url"] = redact_url(str(data["url"]))
    if (data.get("dir_info") or {}).get("editable"):
        info["editable"] = True
    elif "dir_info" in data:
        info["_source"] = "dir"
    elif "archive_info" in data and not str(data.get("url", "")).endswith(".whl"):
        info["_source"] = "sdist"
    vcs = data.get("vcs_info")
    if vcs:
        info["vcs"] = vcs.get("vcs")
        info["commit"] = vcs.get("commit_id")
    return info


# One pass of the regex engine over a RECORD keeps its entries inside the install root, without
# byte code and the files installers write for themselves (INSTALLER, REQUESTED, direct_url.json,
# RECORD and its signatures, uv's uv_cache.json): a line of Python per entry would cost more
# than the rest of the snapshot.
# The files an installer writes into the dist-info for itself, left out of the content identity.
_INSTALLER = ("INSTALLER", "REQUESTED", "direct_url.json", "RECORD", "RECORD.jws", "RECORD.p7s")
_INSTALLER_FILES = tuple(f"{name}," for name in (*_INSTALLER, "uv_cache.json"))


def _kept(line: str) -> bool:
    """Whether a RECORD line counts towards the content identity: not outside the install root
    (``../``, ``/``), not byte code, not an installer's own file in the top-level dist-info."""
    if line.startswith(("../", "/")):
        return False
    comma = line.find(",")
    if comma >= 0 and line.endswith(".pyc", 0, comma):
        return False
    slash = line.find("/")
    if slash > len(".dist-info") and line.endswith(".dist-info", 0, slash):
        return not line.startswith(_INSTALLER_FILES, slash + 1)
    return True


_MODULE_FILE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.[^/]*)?\.(?:py|so|pyd|pyi)$")

#: RECORD lists read in this process, content-addressed: digest -> sorted "path,hash" lines.
#: The store keeps each list once (table ``records``) so a finding can name the files that differ.
RECORDS: Dict[str, List[str]] = {}
#: Where else lists may be read when a finding needs them (a store snapshots were resolved in),
#: by store URL: ``digests -> {digest: lines}``.
RECORD_SOURCES: Dict[str, Callable[[List[str]], Dict[str, List[str]]]] = {}


#: Where the RECORD of a digest remembered by the digest cache is (its lines not read yet).
_PATHS: Dict[str, str] = {}


def read_here(digest: str) -> bool:
    """Whether a capture in this process saw a RECORD of content ``digest``."""
    return digest in RECORDS or digest in _PATHS


def digests_here() -> List[str]:
    """The content digests of every RECORD a capture in this process saw, sorted."""
    return sorted({*RECORDS, *_PATHS})


def local_lines(digest: str) -> Optional[List[str]]:
    """The lines of a RECORD of content ``digest`` that a capture in this process saw: read then,
    or now from the RECORD whose digest was remembered (None when it has changed since)."""
    lines = RECORDS.get(digest)
    if lines is None and digest in _PATHS:
        try:
            with open(_PATHS[digest], "rb") as f:
                found = content_of(f.read().decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            return None
        if found.digest != digest:
            return None  # rewritten since the capture: these are not its lines
        lines = RECORDS[digest] = found.lines
    return lines


def record_lines(digest: str) -> Optional[List[str]]:
    """The RECORD lines of content ``digest``: read here, or from a store that has them."""
    if local_lines(digest) is None:
        for source in list(RECORD_SOURCES.values()):
            try:
                found = source([digest])
            except Exception:  # a store gone or unreadable: the finding says lists are unknown
                continue
            if digest in found:
                RECORDS[digest] = found[digest]
                break
    return RECORDS.get(digest)


@dataclass
class Content:
    """What one distribution's RECORD says: its content digest and its entries."""

    digest: str
    lines: List[str]


def content_of(text: str) -> Content:
    """The content digest of a distribution from its RECORD ``text`` (see the module doc).

    Entries are kept as RECORD writes them (path relative to the install root, hash, size),
    sorted; entries outside the install root (``../../../bin/tool``: console scripts and data
    files, whose path depends on the layout), byte code, and the files installers write for
    themselves are left out.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # String tests, not a regular expression (this runs on each of the 15,000 RECORD lines of 100
    # distributions at every start); the lines that might be dropped get the exact ones.
    lines = [
        line
        for line in text.split("\n")
        if line
        and not line.startswith(("../", "/"))
        and ((".pyc," not in line and ".dist-info/" not in line) or _kept(line))
    ]
    lines.sort()
    digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()
    return Content(digest, lines)


def modules_of(lines: List[str]) -> List[str]:
    """The top-level import names a distribution's RECORD entries install, sorted."""
    modules = set()
    last = ""
    for line in lines:  # sorted: each top-level entry's lines are together
        head, slash, _ = line.partition("/")
        if head == last:
            continue
        last = head
        if slash and "," not in head:
            if head.isidentifier():
                modules.add(head)
        else:
            match = _MODULE_FILE.match(head.split(",", 1)[0])
            if match:
                modules.add(match.group(1))
    return sorted(modules)


def _content(
    dist: Any, record: Dict[str, Any], cache: Optional[DigestCache]
) -> Optional[str]:
    """The distribution's content digest, or None without a RECORD (conda, system packages):
    remembered in ``cache`` when its RECORD is unchanged, else read (:func:`content_of`)."""
    base = getattr(dist, "_path", None)
    path = info = digest = None
    if cache is not None and isinstance(base, os.PathLike):
        path = f"{os.fspath(base)}{os.sep}RECORD"
        try:
            info = os.stat(path)  # before the read: a RECORD rewritten meanwhile is a miss later
        except OSError:
            info = None
        digest = cache.get(path, info) if info is not None else None
        if digest is not None:
            _PATHS.setdefault(digest, path)  # its lines are read only if asked (local_lines)
    if digest is None:
        text = _read_text(dist, "RECORD")
        if not text:
            return None
        found = content_of(text)
        digest = found.digest
        RECORDS.setdefault(digest, found.lines)
        if cache is not None and path is not None and info is not None:
            cache.put(path, info, digest)
    if not record.get("editable"):  # an editable install's content is its checkout, not RECORD
        record["content"] = digest
    return digest


def _top_level(dist: Any) -> List[str]:
    try:
        text = _read_text(dist, "top_level.txt")
    except (OSError, UnicodeDecodeError):
        return []
    return sorted({n.strip() for n in (text or "").splitlines() if n.strip().isidentifier()})


def _read(
    dist: Any, where: str, ctx: Context, cache: Optional[DigestCache] = None
) -> Optional[Dict[str, Any]]:
    try:
        text = _read_text(dist, "METADATA", head=True) or _read_text(dist, "PKG-INFO", head=True)
    except UnicodeDecodeError:
        ctx.fail(PROBE, "metadata is not UTF-8; reinstall this distribution", where)
        return None
    except OSError as e:
        ctx.fail(PROBE, f"cannot read metadata: {e.strerror or e}", where)
        return None
    if not text:
        ctx.fail(PROBE, "no METADATA file; reinstall this distribution", where)
        return None
    headers, requires = _headers(text)
    if not headers.get("name") or not headers.get("version"):
        missing = "Name" if not headers.get("name") else "Version"
        ctx.fail(PROBE, f"metadata has no {missing}; reinstall this distribution", where)
        return None
    why = unsafe(headers["name"]) or unsafe(headers["version"])
    if why:
        ctx.fail(PROBE, f"metadata Name or Version {why}; left out", where)
        return None
    record: Dict[str, Any] = {
        "name": normalize(headers["name"]),
        "version": headers["version"],
        "installer": None,
        "editable": False,
        "vcs": None,
        "url": None,
        "commit": None,
        "location": None,
        "wheel_tags": [],
        "root_is_purelib": None,
        "built_locally": None,
        "tool": False,
        "content": None,
        "_requires": requires,
    }
    try:
        installer = _read_text(dist, "INSTALLER")
        if installer and installer.strip():
            record["installer"] = installer.strip()
        origin = _direct_url(dist)
        record.update(_wheel(dist, origin))
        origin.pop("_source", None)
        record.update(origin)
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as e:
        ctx.fail(PROBE, f"unreadable INSTALLER, WHEEL or direct_url.json: {e}", where)
    record["_modules"] = dist  # top-level names: from its RECORD when asked (module_owners)
    try:
        digest = _content(dist, record, cache)
        if digest is not None and not record["editable"]:
            record["_modules"] = digest
    except (OSError, UnicodeDecodeError) as e:
        ctx.fail(PROBE, f"unreadable RECORD ({e}): identity falls back to its origin", where)
    return record


TOOL = "envparity"


def mark_tool(packages: Dict[str, Dict[str, Any]]) -> None:
    """Mark envparity and each dependency that only it (and other tool packages) requires.

    Judged from this side's Requires-Dist alone: a dependency that another installed
    distribution also requires is the environment's, not the tool's.
    """
    if TOOL not in packages:
        return
    requirers: Dict[str, set] = {}
    for name, record in packages.items():
        for dep in record.get("_requires") or ():
            requirers.setdefault(dep, set()).add(name)
    tool = {TOOL}
    changed = True
    while changed:
        changed = False
        for name in packages:
            if name in tool:
                continue
            by = requirers.get(name)
            if by and by <= tool:
                tool.add(name)
                changed = True
    for name in tool:
        packages[name]["tool"] = True


def _open_cache(search: List[str], ctx: Context) -> Optional[DigestCache]:
    try:
        return DigestCache.open(search, ctx.environ)
    except Exception:  # a cache: one that cannot be read is as good as none
        return None


def collect(
    ctx: Context, path: Optional[List[str]] = None, conda_prefix: Optional[str] = None
) -> Dict[str, Any]:
    """``{"packages", "shadowed", "conda_packages"}`` for the distributions on ``path`` (sys.path)
    and the conda environment at ``conda_prefix`` (sys.prefix).

    The first distribution of a name on sys.path is the one in effect; later ones are shadowed.
    The same dist-info reached twice (lib and lib64, a symlinked site-packages) counts once.
    """
    search = list(sys.path if path is None else path)
    seen_paths = set()
    in_effect: Dict[str, Dict[str, Any]] = {}
    shadowed: List[Dict[str, Any]] = []
    real_dirs: Dict[str, str] = {}  # realpath per directory, not per distribution: it adds up
    cache = _open_cache(search, ctx) if ctx.digest_cache else None
    for dist in metadata.distributions(path=search):
        where = str(getattr(dist, "_path", "") or dist.locate_file(""))
        parent, base = os.path.split(where)
        if parent not in real_dirs:
            real_dirs[parent] = os.path.realpath(parent)
        real = os.path.join(real_dirs[parent], base)
        if real in seen_paths:
            continue
        seen_paths.add(real)
        if os.path.basename(where).startswith("~"):
            ctx.fail(PROBE, "residue of an interrupted install; delete this directory", where)
            continue
        record = _read(dist, where, ctx, cache)
        if record is None:
            continue
        record["location"] = os.path.dirname(where)
        if record["name"] in in_effect:
            shadowed.append(record)
        else:
            in_effect[record["name"]] = record

    if cache is not None:
        try:
            cache.save()
        except Exception:  # a cache: one that cannot be written costs the next run time, no more
            pass
    mark_tool(in_effect)
    sources: List[Tuple[str, Any]] = []
    for record in [*in_effect.values(), *shadowed]:
        record.pop("_requires", None)
        sources.append((record["name"], record.pop("_modules", None)))
    _SOURCES[tuple(search)] = sources
    bare = sorted(
        r["name"]
        for r in in_effect.values()
        if not r["content"] and not r["editable"] and not r["tool"]
    )
    if bare:
        # Not a failure (no drift finding): these are compared by version and origin, as in
        # schema 2.
        shown = ", ".join(bare[:5]) + (f" and {len(bare) - 5} more" if len(bare) > 5 else "")
        ctx.notes.append(
            f"packages: no RECORD for {len(bare)} distribution(s) ({shown}): their identity is "
            "their version, installer and origin, not their content"
        )

    def key(r: Dict[str, Any]) -> Tuple[str, str]:
        return (r["name"], r.get("location") or "")

    return {
        "packages": sorted(in_effect.values(), key=key),
        "shadowed": sorted(shadowed, key=key),
        "conda_packages": conda_packages(sys.prefix if conda_prefix is None else conda_prefix, ctx),
    }


# The last scan's distributions, by search path: (name, content digest, or the distribution
# whose top_level.txt names its modules). The relevance helper reuses the capture's pass.
_SOURCES: Dict[Tuple[str, ...], List[Tuple[str, Any]]] = {}


def module_owners(path: Optional[List[str]] = None) -> Dict[str, List[str]]:
    """Top-level import name -> the distributions (normalized names) that install it.

    From the same pass that reads RECORD for the content digests (:func:`collect`): after a
    capture of ``path`` (default sys.path) it reads no RECORD again; otherwise it runs that pass
    once. Names come from RECORD entries (a namespace package names every owner), else
    top_level.txt (editable installs, distributions without RECORD).
    """
    key = tuple(sys.path if path is None else path)
    if key not in _SOURCES:
        collect(Context(), path=list(key), conda_prefix="")
    owners: Dict[str, List[str]] = {}
    for name, source in _SOURCES[key]:
        lines = local_lines(source) if isinstance(source, str) else None
        modules = modules_of(lines) if lines is not None else _top_level(source)
        for module in modules:
            names = owners.setdefault(module, [])
            if name not in names:
                names.append(name)
    return {m: sorted(n) for m, n in sorted(owners.items())}
