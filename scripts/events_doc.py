"""Render docs/events.md from the event catalog.

python -m scripts.events_doc          # write docs/events.md
python -m scripts.events_doc --check  # exit 1 if the file has drifted
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

from ninefold_core.events import CATALOG
from scripts.generated import write_or_check

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "events.md"


def _type_of(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type_of(s, defs) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}), defs)}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def render() -> str:
    lines = [
        "# Event catalog",
        "",
        "Generated from `ninefold_core.events` by `python -m scripts.events_doc`; do not edit by hand",
        "(a unit test fails when this page and the catalog disagree).",
        "",
        'Every event travels in one envelope: `{"data": ..., "metadata": {id, type, version, tenant_id,',
        "source, occurred_at, correlation: {trace_id, request_id, user_id, session_id, actor_chain, causation_id}}}`.",
        "On the bus, `source` is `ninefold.<producer>`, `detail-type` is the type and `detail` is the envelope.",
        "",
        "| Type | Version | Producer | Description |",
        "|---|---|---|---|",
    ]
    specs = sorted(CATALOG.values(), key=lambda s: (s.producer, s.type, s.version))
    for spec in specs:
        lines.append(
            f"| [`{spec.type}`](#{spec.type.replace('.', '')}-v{spec.version}) | {spec.version} | {spec.producer} "
            f"| {spec.description.splitlines()[0] if spec.description else ''} |"
        )
    for spec in specs:
        schema = spec.json_schema()
        required = set(schema.get("required", []))
        lines += [
            "",
            f"## {spec.type} v{spec.version}",
            "",
            spec.description or "",
            "",
            "| Field | Type | Required | Notes |",
            "|---|---|---|---|",
        ]
        for name, prop in schema.get("properties", {}).items():
            notes = []
            for key in ("minLength", "maxLength", "minimum", "maximum", "pattern", "enum"):
                if key in prop:
                    notes.append(f"{key}={json.dumps(prop[key])}")
            if "description" in prop:
                notes.insert(0, prop["description"])
            lines.append(
                f"| `{name}` | {_type_of(prop, schema.get('$defs', {}))} "
                f"| {'yes' if name in required else 'no'} | {'; '.join(notes)} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(DOC, render, command="python -m scripts.events_doc", description=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
