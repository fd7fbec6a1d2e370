"""Writes pytlscheck/json_schema.json, the JSON Schema of `--json` output
that `pytlscheck --json-schema` prints, from the tables of
docs/json-schema.md: the docs stay the one place the layout is written, and
tests/test_json_schema.py checks that the shipped schema is up to date and
that real output matches it.

    python tools/gen_json_schema.py          # rewrite the file
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "json-schema.md"
OUT = ROOT / "pytlscheck" / "json_schema.json"

# Sections of the doc and the $defs name each becomes.
SECTIONS = {"Top level": None, "Summary": "Summary", "Report": "Report",
            "Problem": "Problem", "OCSP response": "OCSPResponse", "Probe": "Probe", "Diagnosis": "Diagnosis", "Certificate": "Certificate",
            "Demo result": "DemoResult"}
# Keys whose values are documented sections (their items, for arrays).
REFS = {
    ("Top level", "summary"): {"$ref": "#/$defs/Summary"},
    ("Top level", "results"): {"anyOf": [{"$ref": "#/$defs/Report"},
                                         {"$ref": "#/$defs/DemoResult"}]},
    ("Report", "problems"): {"$ref": "#/$defs/Problem"},
    ("Report", "chain"): {"$ref": "#/$defs/Certificate"},
    ("Report", "path"): {"type": "string"},
    ("Report", "verified_chain"): {"type": "string"},
    ("Report", "timings"): {"type": "object", "properties": {
        k: {"type": ["number", "null"]} for k in ("dns", "connect", "handshake", "total")},
        "required": ["dns", "connect", "handshake", "total"]},
    ("Problem", "certificate"): {"type": "object", "properties": {
        "subject": {"type": "string"}, "fingerprint_sha256": {"type": "string"}}},
    ("DemoResult", "report"): {"$ref": "#/$defs/Report"},
    ("Report", "diagnosis"): {"$ref": "#/$defs/Diagnosis"},
    ("Report", "ocsp"): {"$ref": "#/$defs/OCSPResponse"},
    ("Report", "probe"): {"$ref": "#/$defs/Probe"},
    ("Probe", "protocols"): {"properties": {
        k: {"type": "boolean"} for k in ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")},
        "required": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], "additionalProperties": False},
    ("Probe", "cipher_suites"): {"properties": {
        k: {"type": "array", "items": {"type": "string"}}
        for k in ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")},
        "required": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], "additionalProperties": False},
}
TYPES = {
    "string": "string", "integer": "integer", "number": "number", "boolean": "boolean",
    "object": "object", "array": "array",
}
# Keys present only in some documents (the rest are always there).
OPTIONAL = {("Top level", "at")}


def _plain(text: str) -> str:
    """A table cell as plain text: links and code marks dropped."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.replace("`", "").replace("**", "").strip()


def _type(words: str, ref):
    nullable = words.endswith(" or null")
    base = words[: -len(" or null")] if nullable else words
    schema: dict
    if base == "array of strings":
        schema = {"type": "array", "items": {"type": "string"}}
    elif base in TYPES:
        schema = {"type": TYPES[base]}
    else:
        raise SystemExit(f"{DOC}: unknown type words {words!r}")
    if ref is not None:
        if base == "array":
            schema["items"] = ref
        elif base == "object" and "$ref" in ref:
            schema = dict(ref)
        else:
            schema.update(ref)
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]} if "type" not in schema or "$ref" in schema \
            else {**schema, "type": [schema["type"], "null"]}
    return schema


def tables(text: str):
    """{section: [(key, type words, meaning)]} in the doc's order."""
    out, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            continue
        m = re.match(r"\| `([a-z_0-9]+)` \| ([^|]+) \| (.+) \|$", line)
        if m and current in SECTIONS:
            out.setdefault(current, []).append((m.group(1), m.group(2).strip(), m.group(3)))
    return out


def render(text: str) -> str:
    defs = {}
    top = None
    for section, rows in tables(text).items():
        name = SECTIONS[section]
        key_of = name or "Top level"
        props, required = {}, []
        for key, words, meaning in rows:
            s = _type(words, REFS.get((key_of, key)))
            s["description"] = _plain(meaning)
            props[key] = s
            if (key_of, key) not in OPTIONAL:
                required.append(key)
        obj = {"type": "object", "properties": props, "required": required}
        if name is None:
            top = obj
        else:
            defs[name] = obj
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pytlscheck.invalid/json-schema/1",
        "title": "pytlscheck --json output, schema 1",
        "description": "One JSON document per run of pytlscheck --json (check, file, demo). "
                       "Keys are only ever added within a schema version; ignore keys you "
                       "do not know. Generated from docs/json-schema.md.",
        **top,
        "$defs": defs,
    }
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    OUT.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
