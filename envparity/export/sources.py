"""Where the wheels of a pinned version are found: ``--find-links`` directories and PEP 503
simple indexes (``--index-url``, ``file://`` ones included), else pip's own configuration.

A lock file needs each artifact's location and sha256, which a snapshot does not record. The
hash comes from the index's ``#sha256=`` fragment when it has one, else from the file's bytes.
"""

from __future__ import annotations

import hashlib
import html.parser
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .interface import ExportError

_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Artifact:
    """One wheel: its file name, where it is (a URL, or a local path) and its sha256."""

    filename: str
    url: Optional[str] = None
    path: Optional[str] = None
    sha256: Optional[str] = None


class _Links(html.parser.HTMLParser):
    """The ``<a href>`` targets of a PEP 503 page, with their text (the file name)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: List[Tuple[str, str]] = []
        self._href: Optional[str] = None
        self._text: List[str] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def _read_url(url: str) -> bytes:
    """Bytes at ``url``; a ``file://`` directory is read as its ``index.html``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = urllib.request.url2pathname(parsed.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        with open(path, "rb") as f:
            return f.read()
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310
        data: bytes = response.read()
        return data


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Finder:
    """Lists the wheels of a name across the configured sources, each page read once."""

    def __init__(self, find_links: Sequence[str] = (), index_urls: Sequence[str] = ()) -> None:
        # A find-links entry is a directory, or a URL of one flat page of links.
        self.find_links = [os.path.abspath(d) for d in find_links if "://" not in d]
        self.link_pages = [u for u in find_links if "://" in u]
        self.index_urls = [u.rstrip("/") + "/" for u in index_urls]
        self._dir_cache: Dict[str, List[str]] = {}
        self._page_cache: Dict[str, List[Tuple[str, str]]] = {}
        self.problems: List[str] = []

    @property
    def sources(self) -> List[str]:
        return self.find_links + self.link_pages + self.index_urls

    def _dir(self, directory: str) -> List[str]:
        if directory not in self._dir_cache:
            try:
                self._dir_cache[directory] = sorted(os.listdir(directory))
            except OSError as e:
                self.problems.append(f"{directory}: {e.strerror or e}")
                self._dir_cache[directory] = []
        return self._dir_cache[directory]

    def _page(self, url: str) -> List[Tuple[str, str]]:
        if url not in self._page_cache:
            links: List[Tuple[str, str]] = []
            try:
                parser = _Links()
                parser.feed(_read_url(url).decode("utf-8", "replace"))
                links = [(urllib.parse.urljoin(url, href), text) for href, text in parser.links]
            except FileNotFoundError:
                pass  # a local index without that name: not a problem, just nothing there
            except OSError as e:  # URLError and HTTPError are OSErrors
                if getattr(e, "code", None) != 404:
                    self.problems.append(f"{url}: {getattr(e, 'reason', None) or e}")
            self._page_cache[url] = links
        return self._page_cache[url]

    def candidates(self, name: str) -> Iterable[Artifact]:
        """Every wheel file the sources offer for ``name`` (any version), hashes still unread."""
        for directory in self.find_links:
            for filename in self._dir(directory):
                if filename.endswith(".whl"):
                    yield Artifact(filename=filename, path=os.path.join(directory, filename))
        pages = self.link_pages + [f"{index}{name}/" for index in self.index_urls]
        for page in pages:
            for url, text in self._page(page):
                base, _, fragment = url.partition("#")
                filename = urllib.parse.unquote(base.rsplit("/", 1)[-1]) or text
                if not filename.endswith(".whl"):
                    continue
                sha = None
                for part in fragment.split("&"):
                    key, _, value = part.partition("=")
                    if key == "sha256":
                        sha = value
                yield Artifact(filename=filename, url=base, sha256=sha)

    @staticmethod
    def hashed(artifact: Artifact) -> Artifact:
        """``artifact`` with its sha256 (read from the file or the URL when the index gave none)."""
        if artifact.sha256:
            return artifact
        if artifact.path:
            sha = _file_sha256(artifact.path)
        else:
            assert artifact.url is not None
            try:
                sha = hashlib.sha256(_read_url(artifact.url)).hexdigest()
            except OSError as e:
                raise ExportError(f"{artifact.url}: cannot download to hash it ({e})") from None
        return Artifact(artifact.filename, artifact.url, artifact.path, sha)


def pip_configuration(python: Optional[str] = None) -> Tuple[List[str], List[str]]:
    """(find-links, index URLs) from pip's configuration files and PIP_* variables.

    Read through ``pip config list`` (pip's own reader, so every file pip reads counts); no pip
    means nothing configured. pip's default index is used only when nothing else is configured.
    """
    try:
        out = subprocess.run(
            [python or sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return [], []
    find_links: List[str] = []
    index: List[str] = []
    extra: List[str] = []
    no_index = False
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        option = key.rsplit(".", 1)[-1].strip()
        value = value.strip().strip("'\"")
        words = value.split()
        if option == "find-links":
            find_links += words
        elif option == "index-url":
            index = words[:1]
        elif option == "extra-index-url":
            extra += words
        elif option == "no-index":
            no_index = value.lower() in ("1", "true", "yes", "on")
    links = [
        urllib.request.url2pathname(urllib.parse.urlparse(w).path)
        if w.startswith("file:") and os.path.isdir(urllib.parse.urlparse(w).path)
        else w
        for w in find_links
    ]
    if no_index:
        return _dedupe(links), []
    return _dedupe(links), _dedupe((index or ["https://pypi.org/simple/"]) + extra)


def _dedupe(items: List[str]) -> List[str]:
    out: List[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
