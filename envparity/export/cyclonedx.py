"""A CycloneDX 1.6 JSON SBOM: one ``library`` component per distribution, each with its purl.

Written with the standard library (the tests validate it with cyclonedx-python-lib): a purl is
``pkg:pypi/<name>@<version>``, the name lower case with ``_`` as ``-`` (the purl spec for PyPI),
the version percent-encoded (a local label's ``+`` is ``%2B``); a VCS origin is a ``vcs_url``
qualifier.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, Dict, List
from urllib.parse import quote

from .interface import Exporter, Selection
from .requirements import direct_reference

if TYPE_CHECKING:
    from ..model import Package


def purl(package: Package) -> str:
    """The package URL of ``package`` (purl spec, type pypi)."""
    name = package.name.lower().replace("_", "-")
    text = f"pkg:pypi/{quote(name, safe='')}@{quote(package.version, safe='')}"
    reference = direct_reference(package)
    if reference and package.vcs:
        text += f"?vcs_url={quote(reference, safe='')}"
    return text


def _component(package: Package) -> Dict[str, Any]:
    ref = purl(package)
    component: Dict[str, Any] = {
        "type": "library",
        "bom-ref": ref,
        "name": package.name,
        "version": package.version,
        "purl": ref,
    }
    reference = direct_reference(package)
    if reference:
        component["externalReferences"] = [
            {"type": "vcs" if package.vcs else "distribution", "url": reference}
        ]
    return component


class CycloneDxExporter(Exporter):
    """CycloneDX 1.6, JSON."""

    name = "cyclonedx"

    def render(self, selection: Selection) -> str:
        from .._version import __version__

        snap = selection.snapshot
        components: List[Dict[str, Any]] = []
        seen = set()
        for p in selection.packages:
            component = _component(p)
            if component["bom-ref"] in seen:  # bom-refs must be unique
                continue
            seen.add(component["bom-ref"])
            components.append(component)
        properties = [
            {"name": "envparity:baseline", "value": selection.ref},
            {"name": "envparity:snapshot_id", "value": snap.snapshot_id},
            {"name": "envparity:fingerprint", "value": snap.fingerprint},
            {"name": "envparity:python", "value": snap.python.version},
        ]
        if selection.candidate_ref is not None:
            properties.append({"name": "envparity:only_drift", "value": selection.candidate_ref})
        bom = {
            "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            # One serial number per snapshot: exporting the same baseline twice gives one BOM.
            "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, snap.snapshot_id)}",
            "version": 1,
            "metadata": {
                "timestamp": snap.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tools": {
                    "components": [
                        {"type": "application", "name": "envparity", "version": __version__}
                    ]
                },
                "component": {
                    "type": "application",
                    "bom-ref": f"envparity:{snap.snapshot_id}",
                    "name": selection.ref,
                },
                "properties": properties,
            },
            "components": components,
        }
        return json.dumps(bom, indent=2, sort_keys=True) + "\n"
