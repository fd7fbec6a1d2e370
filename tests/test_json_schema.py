"""`pytlscheck --json-schema` (issue 13, item 13): the JSON Schema of --json
output ships in the package, is generated from docs/json-schema.md (the one
place the layout is written), and real output matches it, strictly: a key
the schema does not know fails too."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from pytlscheck.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = files("pytlscheck").joinpath("json_schema.json")


def schema():
    return json.loads(SHIPPED.read_text("utf-8"))


_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
          "object": dict, "array": list, "null": type(None)}


def check(value, s, root, where="$"):
    """A strict validator for the subset the schema uses ($ref, anyOf,
    type, properties, required, items): returns a list of errors."""
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[1]
        return check(value, root["$defs"][name], root, where)
    if "anyOf" in s:
        tries = [check(value, alt, root, where) for alt in s["anyOf"]]
        return [] if any(not t for t in tries) else min(tries, key=len)
    errors = []
    types = s.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        ok = any(isinstance(value, _TYPES[t]) and not (t in ("integer", "number") and
                                                       isinstance(value, bool))
                 for t in types)
        if not ok:
            return [f"{where}: {value!r} is not {types}"]
    if isinstance(value, dict) and "properties" in s:
        for key in s.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing {key!r}")
        for key, v in value.items():
            if key not in s["properties"]:
                errors.append(f"{where}: {key!r} is not in the schema")
            else:
                errors += check(v, s["properties"][key], root, f"{where}.{key}")
    if isinstance(value, list) and "items" in s:
        for i, v in enumerate(value):
            errors += check(v, s["items"], root, f"{where}[{i}]")
    return errors


def cli(*args, input=None):
    return subprocess.run([sys.executable, "-m", "pytlscheck", *args], input=input,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_prints_the_shipped_schema():
    out = cli("--json-schema")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == schema()
    assert "--json-schema" in cli("--help").stdout
    assert "docs/json-schema.md of the source tree" not in cli("--help").stdout


@pytest.mark.skipif(not (ROOT / "tools" / "gen_json_schema.py").exists(), reason="source tree only")
def test_shipped_schema_is_generated_from_the_docs():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_json_schema.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    fresh = gen.render((ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8"))
    assert SHIPPED.read_text("utf-8") == fresh, "run: python tools/gen_json_schema.py"


def test_the_validator_can_fail():
    s = schema()
    assert check({"schema": 1}, s, s)                       # missing keys
    doc = json.loads(cli("demo", "--json").stdout)
    doc["results"][0]["report"]["surprise"] = 1
    assert any("surprise" in e for e in check(doc, s, s))


def test_demo_output_matches_the_schema():
    s = schema()
    out = cli("demo", "--json")
    doc = json.loads(out.stdout)
    assert doc["command"] == "demo" and check(doc, s, s) == []


def test_check_and_file_output_match_the_schema(tmp_path):
    s = schema()
    with Lab() as lab:
        targets = [lab[n].target for n in ("healthy", "expired", "plain_http", "client_cert_required")]
        out = cli(*targets, "--trust", lab.root_pem_path, "--server-name", "localhost", "--json")
        doc = json.loads(out.stdout)
        assert check(doc, s, s) == []
        chain = lab["expired"].chain_path
        out = cli("file", chain, "--host", "localhost", "--trust", lab.root_pem_path, "--json")
    doc = json.loads(out.stdout)
    assert doc["command"] == "file" and check(doc, s, s) == []
