"""The guard with a real mp.Schema, and the `mlprod audit` commands."""

from __future__ import annotations

import importlib.util
import json

import pytest
from guard_models import Constant

import mlprod as mp
from mlprod.cli import main

needs_schema = pytest.mark.skipif(
    importlib.util.find_spec("mlprod.data.validation") is None,
    reason="mlprod.data.validation is not there yet",
)


@needs_schema
def test_guard_with_a_real_schema_routes_bad_frames_to_the_fallback():
    pd = pytest.importorskip("pandas")
    schema = mp.Schema({"age": mp.Column("int64")})
    g = mp.guard(Constant(1.0), input_schema=schema, fallback=0.0)
    assert g.predict(pd.DataFrame({"age": [30, 40]})).tolist() == [1.0, 1.0]
    assert g.last_outcome.outcome == "ok"
    assert g.predict(pd.DataFrame({"age": ["thirty"]})).tolist() == [0.0]
    assert g.last_outcome.outcome == "invalid_input"


def _log(tmp_path, n=3):
    path = tmp_path / "audit.jsonl"
    with mp.AuditLog(path) as log:
        for i in range(n):
            log.append({"event": "guard.call", "i": i})
    return path


def test_cli_verify_ok_tampered_and_missing(tmp_path, capsys):
    path = _log(tmp_path)
    assert main(["audit", "verify", str(path)]) == 0
    assert "OK" in capsys.readouterr().out
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(path.read_bytes().replace(b'"i":2', b'"i":9'))
    assert main(["audit", "verify", str(tampered)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"FAILED: {tampered}: record 2 was changed after it was written"
    assert out[1:3] == ["reason     hash_mismatch", "first bad  record 2 (0-based)"]
    assert out[3].startswith("head       ")
    path.write_bytes(path.read_bytes().replace(b'"i":1', b'"i":7'))
    assert main(["audit", "verify", str(path), "--json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert (verdict["ok"], verdict["reason"], verdict["first_bad"]) == (
        False,
        "hash_mismatch",
        1,
    )
    assert main(["audit", "verify", str(tmp_path / "audit.jsonI")]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_cli_verify_truncated_tail_passes_and_pinned_head_fails(tmp_path, capsys):
    path = _log(tmp_path)
    head = mp.verify_audit_log(path).head
    path.write_bytes(path.read_bytes()[:-30])
    assert main(["audit", "verify", str(path)]) == 0
    assert "truncated_tail" in capsys.readouterr().out
    assert main(["audit", "verify", str(path), "--pinned-head", head]) == 1
    assert "head_missing" in capsys.readouterr().out


def test_cli_tail(tmp_path, capsys):
    path = _log(tmp_path, n=20)
    assert main(["audit", "tail", str(path), "-n", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "guard.call" in lines[0]
    assert '{"i":19}' in lines[1]
    assert main(["audit", "tail", str(path), "-n", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["record"] == {"event": "guard.call", "i": 19}
    assert main(["audit", "tail", str(path), "-n", "-1"]) == 2
    assert main(["audit"]) == 2


def test_cli_tail_of_a_file_that_is_not_an_audit_log(tmp_path, capsys):
    for text in ("garbage\n", "[1, 2]\n"):
        path = tmp_path / "other.jsonl"
        path.write_text(text)
        assert main(["audit", "tail", str(path)]) == 2
        assert "is not a JSON-lines audit log" in capsys.readouterr().err
        assert main(["audit", "verify", str(path)]) == 1
        assert "malformed" in capsys.readouterr().out
