"""Regenerate the committed JSON Schemas in schemas/ from the pydantic models.

python scripts/gen_schemas.py          # write them
python scripts/gen_schemas.py --check  # exit 1 if a committed schema is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"


def schemas() -> Dict[str, str]:
    """File name -> schema text, as generated from envparity.model now."""
    sys.path.insert(0, str(ROOT))
    from envparity.bisect.model import BisectReport
    from envparity.model import DriftReport, Snapshot

    out = {}
    for name, model, title in (
        ("snapshot.v3.json", Snapshot, "envparity snapshot, schema version 3"),
        ("drift-report.v1.json", DriftReport, "envparity drift report, schema version 1"),
        ("bisect-report.v1.json", BisectReport, "envparity bisect report, schema version 1"),
    ):
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = title
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a schema is stale")
    args = parser.parse_args()
    stale = []
    for name, text in schemas().items():
        path = SCHEMAS / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            SCHEMAS.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"stale: {', '.join(stale)}; run python scripts/gen_schemas.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
