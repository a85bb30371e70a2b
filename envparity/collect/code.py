"""The git checkout the process runs from: commit, branch, dirty flag, remotes without credentials.

Commit, branch and remotes are read from ``.git`` directly (no subprocess); the dirty flag needs
git itself and is computed only where a subprocess is allowed (the CLI, not the start-up hook).
"""

from __future__ import annotations

import configparser
import os
import subprocess
from typing import Any, Dict, Optional

from ..redact import redact_url, redact_value
from .interface import Context

PROBE = "code"


def _git_dir(start: str) -> Optional[str]:
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):  # worktree or submodule: "gitdir: <path>"
            with open(candidate, encoding="utf-8") as f:
                text = f.read().strip()
            if text.startswith("gitdir:"):
                return os.path.normpath(os.path.join(here, text[len("gitdir:") :].strip()))
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _resolve(git_dir: str, ref: str) -> Optional[str]:
    common = git_dir
    commondir = os.path.join(git_dir, "commondir")
    if os.path.isfile(commondir):
        with open(commondir, encoding="utf-8") as f:
            common = os.path.normpath(os.path.join(git_dir, f.read().strip()))
    for base in (git_dir, common):
        path = os.path.join(base, ref)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read().strip() or None
    packed = os.path.join(common, "packed-refs")
    if os.path.isfile(packed):
        with open(packed, encoding="utf-8") as f:
            for line in f:
                sha, _, name = line.strip().partition(" ")
                if name == ref:
                    return sha
    return None


def _remotes(git_dir: str) -> Dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read(os.path.join(git_dir, "config"), encoding="utf-8")
    except configparser.Error:
        return {}
    remotes = {}
    for section in parser.sections():
        if section.startswith('remote "') and parser.has_option(section, "url"):
            remotes[section[len('remote "') : -1]] = redact_value(
                redact_url(parser.get(section, "url"))
            )
    return remotes


def _dirty(cwd: str) -> Optional[bool]:
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bool(result.stdout.strip()) if result.returncode == 0 else None


def collect(ctx: Context) -> Dict[str, Any]:
    git_dir = _git_dir(ctx.cwd)
    if git_dir is None:
        return {"code": None}
    head_path = os.path.join(git_dir, "HEAD")
    text = ctx.read(PROBE, head_path)
    if text is None:
        return {"code": None}
    head = text.strip()
    branch = None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
        commit = _resolve(git_dir, ref)
    else:
        commit = head
    return {
        "code": {
            "commit": commit,
            "branch": branch,
            "dirty": _dirty(ctx.cwd) if ctx.subprocess and commit else None,
            "remotes": _remotes(git_dir),
        }
    }
