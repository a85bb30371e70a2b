"""OS, kernel, arch, libc, time zone, locale and encodings; container and Kubernetes identity."""

from __future__ import annotations

import locale
import os
import platform
import re
import socket
import sys
import time
from typing import Any, Dict, List, Optional

from .interface import Context

PROBE = "platform"
_CONTAINER_ID = re.compile(r"([0-9a-f]{64})")


def _os_release(ctx: Context) -> Dict[str, str]:
    for name in ("os-release", "../usr/lib/os-release"):
        text = ctx.read(PROBE, os.path.normpath(os.path.join(ctx.etc, name)))
        if text is None:
            continue
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip("\"'")
        return fields
    return {}


def _timezone(ctx: Context) -> Optional[str]:
    tz = ctx.environ.get("TZ")
    if tz:
        return tz.lstrip(":")
    text = ctx.read(PROBE, os.path.join(ctx.etc, "timezone"))
    if text and text.strip():
        return text.strip()
    try:
        target = os.readlink(os.path.join(ctx.etc, "localtime"))
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    return time.tzname[0] or None


def _tzpath(ctx: Context) -> List[str]:
    # zoneinfo.TZPATH without importing zoneinfo: PYTHONTZPATH (absolute entries only, as
    # zoneinfo takes them), else the interpreter's compiled-in TZPATH.
    text = ctx.environ.get("PYTHONTZPATH")
    if text is None:
        import sysconfig

        text = sysconfig.get_config_var("TZPATH") or ""
    return [p for p in text.split(os.pathsep) if p and os.path.isabs(p)]


def _tz_version(ctx: Context, directory: str) -> Optional[str]:
    path = os.path.join(directory, "tzdata.zi")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline()  # the file is ~100 kB; the version is its first line
    except FileNotFoundError:
        return None
    except OSError as e:
        ctx.fail(PROBE, f"cannot read: {e.strerror or e}", path)
        return None
    if first.startswith("# version "):
        return first[len("# version "):].strip() or None
    return None


def tz_rules(ctx: Context) -> Dict[str, Any]:
    """The time-zone rules in use: zoneinfo's search path and the first database on it (its
    ``tzdata.zi`` version), and ``TZDIR`` (the C library's). The tzdata and pytz versions are
    added from the package list (:func:`add_tz_packages`)."""
    tzpath = _tzpath(ctx)
    source = next(
        (d for d in tzpath if os.path.isfile(os.path.join(d, "tzdata.zi"))
         or os.path.isfile(os.path.join(d, "UTC"))),
        None,
    )
    return {
        "source": source,
        "version": _tz_version(ctx, source) if source else None,
        "tzpath": tzpath,
        "tzdir": ctx.environ.get("TZDIR"),
    }


def add_tz_packages(platform_info: Dict[str, Any], packages: List[Dict[str, Any]]) -> None:
    """Complete ``platform.tz_rules`` with the tzdata and pytz versions in ``packages``: zoneinfo
    falls back to tzdata where no system database is found, pytz carries its own."""
    rules = platform_info.get("tz_rules")
    if not isinstance(rules, dict):
        return
    versions = {p.get("name"): p.get("version") for p in packages if isinstance(p, dict)}
    rules["tzdata"] = versions.get("tzdata")
    rules["pytz"] = versions.get("pytz")
    if rules.get("source") is None and rules["tzdata"]:
        rules["source"] = "tzdata"
        rules["version"] = rules["tzdata"]


def _libc() -> Dict[str, Optional[str]]:
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")  # type: ignore[union-attr]
        return {"libc": name, "libc_version": version}
    except (AttributeError, ValueError, OSError):
        # Not glibc (musl, macOS): platform.libc_ver reads the interpreter binary, slower but
        # correct where it knows the answer.
        name, version = platform.libc_ver()
        return {"libc": name or None, "libc_version": version or None}


def _container_id(ctx: Context) -> Optional[str]:
    for name in ("self/cgroup", "self/mountinfo"):
        text = ctx.read(PROBE, os.path.join(ctx.proc, name))
        if text:
            for line in text.splitlines():
                if any(k in line for k in ("docker", "containerd", "kubepods", "crio", "libpod")):
                    found = _CONTAINER_ID.search(line)
                    if found:
                        return found.group(1)
    return None


def _k8s_namespace(ctx: Context) -> Optional[str]:
    if ctx.environ.get("POD_NAMESPACE"):
        return ctx.environ["POD_NAMESPACE"]
    text = ctx.read(PROBE, "/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return text.strip() if text else None


def collect(ctx: Context) -> Dict[str, Any]:
    release = _os_release(ctx)
    uname = platform.uname()
    in_k8s = "KUBERNETES_SERVICE_HOST" in ctx.environ
    ctype = locale.setlocale(locale.LC_CTYPE)
    info: Dict[str, Any] = {
        "system": uname.system,
        "kernel": uname.release,
        "arch": uname.machine,
        "os_id": release.get("ID"),
        "os_name": release.get("NAME"),
        "os_version": release.get("VERSION_ID"),
        "timezone": _timezone(ctx),
        "utc_offset_minutes": time.localtime().tm_gmtoff // 60,
        "locale": ctype,
        "preferred_encoding": locale.getpreferredencoding(False),
        "filesystem_encoding": sys.getfilesystemencoding(),
        "tz_rules": tz_rules(ctx),
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "container_id": _container_id(ctx),
        "k8s_pod": ctx.environ.get("POD_NAME") or (uname.node if in_k8s else None),
        "k8s_namespace": _k8s_namespace(ctx) if in_k8s else None,
    }
    info.update(_libc())
    return {"platform": info}
