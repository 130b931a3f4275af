"""An attacker with write access to the database and the artifact folder, for real.

The attack: replace a registered skops model with a pickle that runs code when
loaded (here it only writes a marker file), rewrite the version's row with a
manifest naming the pickle (digests recomputed), and re-seal the whole event
chain and the stored head so the plain chain verifies. Each mode is shown
stopping it, and the default mode is shown for what it cannot stop.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import mlprod as mp
from mlprod._internal.canonical import canonical_json
from mlprod.audit import GENESIS, line_hash, seal

pytest.importorskip("skops")

KEY = "k" * 32


class _Payload:
    """Unpickles into a call of exec: what an attacker's pickle does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",)


def _engine(reg: mp.ModelRegistry) -> Any:
    import sqlalchemy as sa

    return sa.create_engine(reg._sql.engine.url)


def attack(
    reg: mp.ModelRegistry, marker: Path, *, claim: str = "joblib", reseal: bool = True
) -> None:
    """Rewrite churn:1 to a code-running pickle, as someone with the database and the files."""
    import sqlalchemy as sa

    payload = pickle.dumps(_Payload(marker))
    new_artifact = hashlib.sha256(payload).hexdigest()
    where = Path(reg.artifacts.where(new_artifact))
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_bytes(payload)
    engine = _engine(reg)
    t = reg._t
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(t.versions.c.digest, t.versions.c.manifest).where(
                t.versions.c.name == "churn", t.versions.c.version == 1
            )
        ).one()
        manifest = json.loads(row.manifest)
        manifest["serializer"] = claim
        manifest["artifacts"] = {f"model.{claim}": {"sha256": new_artifact, "size": len(payload)}}
        text = canonical_json(manifest).decode("utf-8")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        conn.execute(
            t.versions.update()
            .where(t.versions.c.digest == row.digest)
            .values(digest=digest, manifest=text)
        )
        conn.execute(
            t.lifecycle.update().where(t.lifecycle.c.digest == row.digest).values(digest=digest)
        )
        if not reseal:
            return
        prev, seq = GENESIS, 0
        lines = conn.execute(sa.select(t.events.c.seq, t.events.c.line).order_by(t.events.c.seq))
        for seq, line in lines.all():
            env = json.loads(line)
            record = {k: v for k, v in env["record"].items() if k != "mac"}  # cannot forge it
            if record.get("digest") == row.digest:
                record["digest"] = digest
            new = seal(record, seq=seq, prev=prev, ts=env["ts"])
            conn.execute(
                t.events.update().where(t.events.c.seq == seq).values(line=new.decode("utf-8"))
            )
            prev = line_hash(new)
        conn.execute(t.meta.update().values(next_seq=seq + 1, head=prev))
    engine.dispose()


@pytest.fixture
def victim(make_registry: Any, fitted_model: Any, tmp_path: Path) -> tuple[Any, str, Path]:
    """A registry holding churn:1 (skops) and churn:2, the head pinned before the attack."""
    model, _X = fitted_model
    reg = make_registry(key=False)
    reg.register("churn", model, serializer="skops")
    reg.register("churn", {"w": 2})
    return reg, reg.head(), tmp_path / "marker"


def test_default_mode_refuses_a_rewritten_row(victim: Any) -> None:
    reg, _pin, marker = victim
    attack(reg, marker, reseal=False)
    with pytest.raises(mp.IntegrityError, match="does not match its sealed registration"):
        reg.load("churn", 1)
    assert not marker.exists()
    assert not reg.verify().ok


def test_default_mode_cannot_stop_a_full_reseal_but_a_pinned_head_detects_it(
    victim: Any, make_registry: Any
) -> None:
    # What the default protects against and what it does not: a writer who
    # re-seals the whole chain gets a pickle loaded. Only a head kept
    # elsewhere (or a key, or safe mode) catches that.
    reg, pin, marker = victim
    attack(reg, marker)
    assert reg.verify().ok  # the chain was re-sealed consistently
    pinned = reg.verify(pinned_head=pin)
    assert not pinned.ok
    assert [p.kind for p in pinned.problems] == ["pinned_head"]
    # The hash alone (without the count) pins too.
    assert not reg.verify(pinned_head=pin.split(":")[1]).ok
    reg.load("churn", 1)
    assert marker.read_text() == "code ran"


def test_safe_mode_refuses_the_pickle_before_reading_it(victim: Any, make_registry: Any) -> None:
    reg, _pin, marker = victim
    attack(reg, marker)
    safe = make_registry(safe=True, key=False)
    with pytest.raises(mp.UntrustedFormat) as info:
        safe.load("churn", 1)
    assert info.value.serializer == "joblib"
    assert info.value.trusted == ("skops",)
    assert info.value.ref == "churn:1"
    assert not marker.exists()
    # An override cannot talk it round either.
    with pytest.raises(mp.UntrustedFormat):
        safe.load("churn", 1, serializer="joblib")
    assert not marker.exists()


def test_safe_mode_refuses_a_pickle_that_claims_to_be_skops(
    victim: Any, make_registry: Any
) -> None:
    reg, _pin, marker = victim
    attack(reg, marker, claim="skops")
    safe = make_registry(trusted_serializers={"skops"}, key=False)
    with pytest.raises(mp.IntegrityError, match="a pickle"):
        safe.load("churn", 1)
    assert not marker.exists()


def test_a_keyed_registry_detects_a_full_reseal(
    make_registry: Any, fitted_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPROD_REGISTRY_KEY", KEY)
    model, _ = fitted_model
    reg = make_registry()
    reg.register("churn", model, serializer="skops")
    reg.register("churn", {"w": 2})
    assert reg.verify().ok
    assert all("mac" in e["record"] for e in reg.events())
    marker = tmp_path / "marker"
    attack(reg, marker)
    with pytest.raises(mp.IntegrityError, match="keyed seal"):
        reg.load("churn", 1)
    assert not marker.exists()
    result = reg.verify()
    assert not result.ok
    assert {p.kind for p in result.problems} == {"event_signature"}
    # churn:2's registration is re-sealed too: without the key it fails the same way.
    with pytest.raises(mp.IntegrityError, match="keyed seal"):
        reg.load("churn", 2)
    # Opened without the key, the same registry verifies: the key is the protection.
    assert make_registry(key=False).verify().ok


def test_a_key_file_works_and_a_wrong_key_is_named(
    make_registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "registry.key"
    key_file.write_text(KEY + "\n")
    monkeypatch.setenv("MLPROD_REGISTRY_KEY_FILE", str(key_file))
    reg = make_registry()
    reg.register("churn", {"w": 1})
    assert reg.load("churn", 1) == {"w": 1}
    assert reg.verify().ok
    other = make_registry(key="another-key-of-32-bytes-length!!")
    with pytest.raises(mp.IntegrityError, match="another key"):
        other.load("churn", 1)
    assert not other.verify().ok


def test_a_registry_that_predates_its_key_adopts_it(make_registry: Any) -> None:
    make_registry(key=False).register("churn", {"w": 1})
    keyed = make_registry(key=KEY)
    with pytest.raises(mp.IntegrityError, match="adopt_key"):
        keyed.load("churn", 1)
    assert "adopt_key" in keyed.verify().problems[0].detail
    keyed.adopt_key(actor="ops")
    assert keyed.load("churn", 1) == {"w": 1}
    assert keyed.verify().ok
    keyed.register("churn", {"w": 2})
    assert keyed.verify().ok


@pytest.mark.parametrize(
    ("key", "match"),
    [("short", "at least 16"), (5, "bytes or text")],
)
def test_bad_keys_are_refused(tmp_path: Path, key: Any, match: str) -> None:
    with pytest.raises(mp.ConfigurationError, match=match):
        mp.ModelRegistry(tmp_path / "r", key=key)


def test_an_unreadable_key_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLPROD_REGISTRY_KEY", raising=False)
    monkeypatch.setenv("MLPROD_REGISTRY_KEY_FILE", str(tmp_path / "nope"))
    with pytest.raises(mp.ConfigurationError, match="MLPROD_REGISTRY_KEY_FILE"):
        mp.ModelRegistry(tmp_path / "r")


def test_safe_registry_refuses_to_register_a_pickle(make_registry: Any) -> None:
    safe = make_registry(safe=True)
    with pytest.raises(mp.UntrustedFormat):
        safe.register("churn", {"w": 1})
    assert safe.names() == []
    mv = safe.register("churn", {"w": 1}, serializer="skops")
    assert safe.load(mv) == {"w": 1}


def test_skops_of_bytes_that_are_not_skops_is_an_integrity_error() -> None:
    from mlprod.models.serializers import SkopsSerializer

    for data in (b"not a zip", pickle.dumps({"a": 1}), b"PK\x03\x04broken"):
        with pytest.raises(mp.IntegrityError):
            SkopsSerializer().loads(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"safe": "yes"},
        {"trusted_serializers": "skops"},
        {"trusted_serializers": set()},
        {"safe": True, "trusted_serializers": {"joblib"}},
    ],
)
def test_policy_settings_are_checked(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(mp.ConfigurationError):
        mp.ModelRegistry(tmp_path / "r", **kwargs)


def test_a_malformed_pin_is_refused(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1})
    with pytest.raises(mp.ConfigurationError, match="pinned_head"):
        registry.verify(pinned_head="abc")
    assert registry.verify(pinned_head="0:" + "0" * 64).ok
    assert not registry.verify(pinned_head="5:" + registry.head().split(":")[1]).ok
