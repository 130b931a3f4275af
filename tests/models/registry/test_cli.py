"""``mlprod registry ...`` commands and their exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mlprod as mp
from mlprod.cli import main


@pytest.fixture
def location(make_registry: Any, backend: dict[str, Any]) -> list[str]:
    reg = make_registry()
    reg.register("churn", {"w": 1}, metrics={"auc": 0.80}, actor="ana")
    reg.register("churn", {"w": 2}, metrics={"auc": 0.85}, actor="ana", parents=["churn:1"])
    reg.register("fraud", {"w": 3}, actor="ana")
    reg.set_alias("churn", "production", 1, actor="bo", reason="launch")
    args = ["--registry", backend["location"]]
    if backend["artifacts"]:
        args += ["--artifacts", backend["artifacts"]]
    return args


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ls_lists_models_and_versions(location: list[str], capsys: Any) -> None:
    code, out, _ = _run(capsys, "registry", "ls", *location)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["churn", "fraud"]
    assert "production→v1" in out
    code, out, _ = _run(capsys, "registry", "ls", "churn", "--json", *location)
    rows = json.loads(out)
    assert [(r["version"], r["aliases"], r["metrics"]) for r in rows] == [
        (1, ["production"], {"auc": 0.8}),
        (2, [], {"auc": 0.85}),
    ]


def test_show_prints_a_version(location: list[str], capsys: Any) -> None:
    code, out, _ = _run(capsys, "registry", "show", "churn:production", *location)
    assert code == 0
    assert out.startswith("Model churn v1")
    code, out, _ = _run(capsys, "registry", "show", "churn", "2", "--json", *location)
    assert json.loads(out)["manifest"]["parents"][0]["version"] == 1


def test_lineage_formats(location: list[str], capsys: Any) -> None:
    code, out, _ = _run(
        capsys, "registry", "lineage", "churn", "1", "--format", "mermaid", *location
    )
    assert code == 0
    assert out.startswith("graph LR")
    code, out, _ = _run(
        capsys, "registry", "lineage", "churn", "2", "--format", "openlineage", *location
    )
    assert [e["outputs"][0]["name"] for e in json.loads(out)] == [
        "models/churn/2",
        "models/churn/1",
    ]
    code, out, _ = _run(capsys, "registry", "lineage", "churn", "2", "--json", *location)
    assert json.loads(out)["root"] == "model:churn:2"


def test_promote_through_gates_and_read_the_history(location: list[str], capsys: Any) -> None:
    code, out, _ = _run(
        capsys, "registry", "promote", "churn", "2", "production", "--actor", "ana",
        "--four-eyes", "--beats", "auc:0.01", *location,
    )  # fmt: skip
    assert code == 1
    assert "[FAIL] four_eyes" in out
    assert "[pass] beats_current(auc)" in out
    code, out, _ = _run(
        capsys, "registry", "promote", "churn", "2", "production", "--actor", "bo",
        "--reason", "better", "--four-eyes", "--min", "auc=0.8", "--json", *location,
    )  # fmt: skip
    assert code == 0
    moved = json.loads(out)
    assert (moved["moved"], moved["previous"], moved["version"]) == (True, 1, 2)
    code, out, _ = _run(capsys, "registry", "aliases", "churn", *location)
    assert out.split() == ["production", "v2"]
    code, out, _ = _run(capsys, "registry", "aliases", "churn", "production", "--json", *location)
    assert [(c["version"], c["reason"]) for c in json.loads(out)] == [(1, "launch"), (2, "better")]


def test_verify_exit_codes(location: list[str], backend: dict[str, Any], capsys: Any) -> None:
    code, out, _ = _run(capsys, "registry", "verify", *location)
    assert code == 0
    assert "passed" in out
    reg = mp.ModelRegistry(backend["location"], artifacts=backend["artifacts"])
    digest = reg.get("fraud", 1).artifacts["model.joblib"]["sha256"]
    Path(reg.artifacts.where(digest)).write_bytes(b"tampered")
    reg.close()
    code, out, _ = _run(capsys, "registry", "verify", "--json", *location)
    assert code == 1
    assert [p["kind"] for p in json.loads(out)["problems"]] == ["artifact_corrupt"]


def test_bad_input_exits_2_with_a_message(location: list[str], tmp_path: Path, capsys: Any) -> None:
    code, _, err = _run(capsys, "registry", "show", "chrn", *location)
    assert code == 2
    assert "Did you mean 'churn'" in err
    code, _, err = _run(capsys, "registry", "aliases", "chrn", *location)
    assert code == 2
    assert "Did you mean 'churn'" in err
    code, _, err = _run(capsys, "registry", "aliases", "churn", "prodution", *location)
    assert code == 2
    assert "Did you mean 'production'" in err
    code, _, err = _run(capsys, "registry", "ls", "--registry", f"sqlite:///{tmp_path}/m.db")
    assert code == 2
    assert "--artifacts" in err
    assert "MLPROD_ARTIFACTS" in err
    code, _, err = _run(capsys, "registry", "ls", "--registry", str(tmp_path / "none"))
    assert code == 2
    assert "No model registry" in err
    code, _, err = _run(
        capsys, "registry", "promote", "churn", "2", "production", "--min", "auc", *location
    )
    assert code == 2
    assert "METRIC=VALUE" in err


def test_printed_times_resolve_back_to_the_same_move(
    location: list[str], backend: dict[str, Any], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")  # printed times must not depend on it
    time.tzset()
    try:
        reg = mp.ModelRegistry(backend["location"], artifacts=backend["artifacts"])
        reg.set_alias("churn", "production", 2)
        history = reg.alias_history("churn", "production")
        reg.close()
        code, out, _ = _run(capsys, "registry", "aliases", "churn", "production", *location)
        assert code == 0
        for line, change in zip(out.splitlines(), history, strict=True):
            printed = line.split()[0]
            assert printed == change.at.isoformat()
            code, out, _ = _run(
                capsys, "registry", "aliases", "churn", "production", "--at", printed, *location
            )
            assert out.startswith(f"churn@production at {printed}: v{change.version} ")
        code, out, _ = _run(capsys, "registry", "ls", "churn", *location)
        created = out.splitlines()[1].split()[2]
        code, out, _ = _run(
            capsys, "registry", "aliases", "churn", "latest", "--at", created, *location
        )
        assert ": v2 " in out
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_tampered_record_is_a_failed_check_not_bad_input(
    location: list[str], backend: dict[str, Any], capsys: Any
) -> None:
    reg = mp.ModelRegistry(backend["location"], artifacts=backend["artifacts"])
    t = reg._t
    with reg._sql.engine.begin() as conn:
        row = conn.execute(t.versions.select().where(t.versions.c.name == "fraud")).one()
        conn.execute(
            t.versions.update()
            .where(t.versions.c.id == row.id)
            .values(manifest=row.manifest.replace('"ana"', '"eve"'))
        )
    reg.close()
    for command in (["show", "fraud"], ["ls", "fraud"], ["lineage", "fraud", "1"]):
        code, out, err = _run(capsys, "registry", *command, *location)
        assert code == 1, command
        assert "changed in the database" in err
        assert out == ""
