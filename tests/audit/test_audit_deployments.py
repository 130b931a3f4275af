"""The audit log in real deployments: fork, a full disk, rotation, NaN in records, bad arguments."""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import mlprod as mp
from mlprod.audit import SEGMENT_END, SEGMENT_START, verify_lines

# -- fork -------------------------------------------------------------------------------------


@pytest.mark.parametrize("flush_every", [1, 64])
def test_a_log_opened_before_fork_keeps_one_chain_across_forked_writers(tmp_path, flush_every):
    path = tmp_path / "shared.jsonl"
    log = mp.AuditLog(path, flush_every=flush_every)
    log.append({"event": "start"})
    log.flush()
    children = []
    for who in range(4):
        pid = os.fork()
        if pid == 0:  # the child: write through the inherited AuditLog object
            code = 1
            try:
                for i in range(3_000):
                    log.append({"writer": who, "i": i})
                log.close()
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in children]
    assert statuses == [0, 0, 0, 0]
    log.append({"event": "end"})
    log.close()
    verdict = mp.verify_audit_log(path)
    assert (verdict.ok, verdict.reason, verdict.records) == (True, "ok", 12_002)
    per_writer: dict[int, list[int]] = {}
    entries = list(mp.read_audit_log(path))
    assert [e["seq"] for e in entries] == list(range(12_002))
    for entry in entries[1:-1]:
        rec = entry["record"]
        per_writer.setdefault(rec["writer"], []).append(rec["i"])
    assert sorted(per_writer) == [0, 1, 2, 3]
    assert all(v == list(range(3_000)) for v in per_writer.values())
    assert entries[-1]["record"] == {"event": "end"}


def test_the_child_does_not_write_the_parents_pending_records(tmp_path):
    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path, flush_every=10)
    log.append({"from": "parent"})
    pid = os.fork()
    if pid == 0:
        try:
            log.append({"from": "child"})
            log.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    log.close()
    assert sorted(r["record"]["from"] for r in mp.read_audit_log(path)) == ["child", "parent"]
    assert mp.verify_audit_log(path).ok


# -- a full disk ------------------------------------------------------------------------------

_FULL_DISK = textwrap.dedent(
    """
    import json, resource, signal, sys
    import mlprod as mp

    path, flush_every, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    log = mp.AuditLog(path, flush_every=flush_every)
    failures, accepted = [], 0
    for i in range(400):
        try:
            log.append({"i": i, "pad": "x" * 60})
            accepted += 1
        except OSError as exc:
            failures.append({"i": i, "errno": exc.errno, "pending": log.pending,
                             "notes": getattr(exc, "__notes__", [])})
            if len(failures) == 3:
                break
    at_failure = mp.verify_audit_log(path).to_dict()
    on_disk = [r["record"]["i"] for r in mp.read_audit_log(path)]
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space again
    log.close()
    print(json.dumps({"failures": failures, "at_failure": at_failure, "on_disk": on_disk}))
    """
)


@pytest.mark.parametrize("flush_every", [1, 100])
def test_a_full_disk_leaves_each_record_once_or_not_at_all(tmp_path, flush_every):
    import json

    path = tmp_path / "a.jsonl"
    run = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(path), str(flush_every), "20000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    failures = out["failures"]
    assert failures, "the size limit was never reached"
    assert {f["errno"] for f in failures} == {27}  # EFBIG
    # At the failure the file holds whole records only: no torn line, no duplicate.
    at_failure = out["at_failure"]
    assert (at_failure["ok"], at_failure["reason"]) == (True, "ok")
    assert out["on_disk"] == list(range(len(out["on_disk"])))
    assert os.path.getsize(path) > 0
    verdict = mp.verify_audit_log(path)
    assert (verdict.ok, verdict.reason) == (True, "ok")
    written = [r["record"]["i"] for r in mp.read_audit_log(path)]
    assert len(written) == len(set(written)), "a record was written twice"
    assert written == sorted(written)
    if flush_every == 1:
        # A record whose write failed is not in the log; every other one is, once.
        failed = {f["i"] for f in failures}
        assert set(written) == set(range(max(written) + 1)) - failed
    else:
        # Records accepted into a failed batch stay pending and are written once, later.
        assert failures[0]["pending"] > 0
        assert "written whole is kept" in failures[0]["notes"][0]
        assert written == list(range(len(written)))
        assert len(written) > len(out["on_disk"])


def test_a_record_written_twice_fails_verification(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        for i in range(4):
            log.append({"i": i})
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:3], lines[2], lines[3]]))
    verdict = mp.verify_audit_log(path)
    assert (verdict.ok, verdict.reason, verdict.first_bad) == (False, "duplicate", 3)
    assert "sequence number 2" in verdict.detail


# -- NaN, infinity and ambiguous keys in records ----------------------------------------------


def test_nan_and_infinity_are_kept_and_read_back(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        log.append({"x": math.nan, "y": [math.inf, -math.inf, 1.5], "s": "NaN"})
        log.append({"a": np.array([1.0, np.nan])})
    raw = path.read_bytes()
    assert b'{"$mlprod.float":"NaN"}' in raw
    assert b"NaN," not in raw  # no bare NaN token: every JSON reader can parse the file
    first, second = (e["record"] for e in mp.read_audit_log(path))
    assert math.isnan(first["x"])
    assert first["y"] == [math.inf, -math.inf, 1.5]
    assert first["s"] == "NaN"  # a user's string stays a string
    assert second["a"][0] == 1.0
    assert math.isnan(second["a"][1])
    assert mp.verify_audit_log(path).ok
    from mlprod.audit import tail_audit_log

    assert math.isnan(tail_audit_log(path, 2)[0]["record"]["x"])


class _Mean:
    def predict(self, X):
        return np.zeros(len(X))


def test_a_guard_recording_inputs_keeps_the_record_of_a_row_with_a_missing_value(tmp_path):
    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path)
    g = mp.guard(_Mean(), audit=log, record_inputs=True, name="nan-input")
    X = pd.DataFrame({"age": [31.0, np.nan], "income": [1.0, np.inf]})
    g.predict(X)
    log.close()
    assert g.audit_errors == 0
    (entry,) = [e for e in mp.read_audit_log(path) if e["record"].get("event") == "guard.call"]
    recorded = entry["record"]["input"]
    assert recorded["age"]["0"] == 31.0
    assert math.isnan(recorded["age"]["1"])
    assert recorded["income"]["1"] == math.inf
    assert mp.verify_audit_log(path).ok


def test_ambiguous_keys_and_the_reserved_tag_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        with pytest.raises(mp.EncodingError, match="distinct string key") as info:
            log.append({1: "a", "1": "b"})
        assert isinstance(info.value, mp.MlprodError | TypeError)
        assert info.value.keys == ("1", "'1'")
        with pytest.raises(mp.EncodingError, match="reserved"):
            log.append({"v": {"$mlprod.float": "NaN"}})
        assert log.append({"ok": True}) == 0
    assert [e["record"] for e in mp.read_audit_log(path)] == [{"ok": True}]


# -- rotation ---------------------------------------------------------------------------------


def _events(path):
    return [e["record"].get("event") for e in mp.read_audit_log(path)]


def test_reopen_after_a_logrotate_rename_chains_the_segments(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = mp.AuditLog(path)
    for i in range(3):
        log.append({"i": i})
    os.rename(path, tmp_path / "audit.jsonl.1")  # what logrotate does
    log.append({"i": 3})  # still the old file, as with logrotate until postrotate
    log.reopen()
    for i in range(4, 6):
        log.append({"i": i})
    os.rename(path, tmp_path / "audit.jsonl.2.tmp")
    os.rename(tmp_path / "audit.jsonl.1", tmp_path / "audit.jsonl.2")
    os.rename(tmp_path / "audit.jsonl.2.tmp", tmp_path / "audit.jsonl.1")
    log.reopen()
    log.append({"i": 6})
    log.close()
    oldest, middle, newest = (
        tmp_path / n for n in ("audit.jsonl.2", "audit.jsonl.1", "audit.jsonl")
    )
    assert _events(oldest)[-1] == SEGMENT_END
    assert _events(middle)[0] == SEGMENT_START
    first_of_middle = next(iter(mp.read_audit_log(middle)))
    assert first_of_middle["record"]["previous_head"] == first_of_middle["prev"]
    assert first_of_middle["prev"] == list(mp.read_audit_log(oldest))[-1]["hash"]

    whole = mp.verify_audit_log([oldest, middle, newest])
    assert (whole.ok, whole.reason, whole.segments, whole.first_seq) == (True, "ok", 3, 0)
    assert whole.records == 5 + 4 + 2  # 4 + end | start + 2 + end | start + 1
    assert whole.head == log.head
    # Each segment verifies alone, and says where it starts.
    alone = mp.verify_audit_log(newest)
    assert (alone.ok, alone.first_seq) == (True, 9)
    assert "from sequence number 9" in alone.detail
    # A deleted, repeated or reordered segment breaks the chain.
    for files in ([oldest, newest], [middle, oldest, newest], [oldest, middle, middle, newest]):
        verdict = mp.verify_audit_log(files)
        assert not verdict.ok, files
        assert verdict.reason in {"broken_chain", "sequence_gap", "duplicate"}
    # Logrotate deleting the oldest segment leaves a chain that starts later, and says so.
    tail_only = mp.verify_audit_log([middle, newest])
    assert (tail_only.ok, tail_only.first_seq) == (True, 5)


def test_reopen_without_a_rename_only_flushes(tmp_path):
    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path, flush_every=10)
    log.append({"i": 0})
    log.reopen()
    assert log.pending == 0
    log.append({"i": 1})
    log.close()
    assert _events(path) == [None, None]
    assert mp.verify_audit_log(path).records == 2


def test_other_writers_follow_the_rotation_on_their_next_write(tmp_path):
    path = tmp_path / "a.jsonl"
    a = mp.AuditLog(path)
    b = mp.AuditLog(path, flush_every=3)  # another open file: locks like another process
    a.append({"by": "a"})
    b.append({"by": "b"})
    os.rename(path, tmp_path / "a.jsonl.1")
    a.reopen()
    b.flush()  # b's pending record lands in the new file, after a's segment start
    a.append({"by": "a"})
    a.close()
    b.close()
    old, new = tmp_path / "a.jsonl.1", path
    assert [e["record"].get("by") for e in mp.read_audit_log(old)] == ["a", None]
    assert [e["record"].get("by") for e in mp.read_audit_log(new)] == [None, "b", "a"]
    verdict = mp.verify_audit_log([old, new])
    assert (verdict.ok, verdict.records) == (True, 5)


def test_sighup_reopens_every_open_log(tmp_path):
    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path)
    log.append({"i": 0})
    previous = mp.AuditLog.install_sighup_reopen()
    try:
        os.rename(path, tmp_path / "a.jsonl.1")
        os.kill(os.getpid(), signal.SIGHUP)
        assert path.exists()  # the handler ran and opened the new file
        log.append({"i": 1})
    finally:
        signal.signal(signal.SIGHUP, previous)
        log.close()
    assert _events(path)[0] == SEGMENT_START
    assert mp.verify_audit_log([tmp_path / "a.jsonl.1", path]).ok


def test_reopen_from_a_handler_while_the_log_is_busy_waits_for_the_next_write(tmp_path):
    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path)
    log.append({"i": 0})
    os.rename(path, tmp_path / "a.jsonl.1")
    with log._lock:  # as if the signal arrived mid-append
        log.reopen()
    assert not path.exists()
    log.append({"i": 1})
    log.close()
    assert mp.verify_audit_log([tmp_path / "a.jsonl.1", path]).records == 4


# -- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter", "match"),
    [
        ({"flush_every": 0}, "flush_every", "integer >= 1"),
        ({"flush_every": True}, "flush_every", "integer >= 1"),
        ({"flush_every": "3"}, "flush_every", "integer >= 1"),
        ({"max_delay_s": math.nan}, "max_delay_s", "positive number"),
        ({"max_delay_s": "5"}, "max_delay_s", "positive number"),
        ({"max_delay_s": -1}, "max_delay_s", "positive number"),
        ({"fsync": "yes"}, "fsync", "True or False"),
    ],
)
def test_bad_settings_are_configuration_errors(tmp_path, kwargs, parameter, match):
    with pytest.raises(mp.ConfigurationError, match=match) as info:
        mp.AuditLog(tmp_path / "a.jsonl", **kwargs)
    assert info.value.parameter == parameter
    assert not (tmp_path / "a.jsonl").exists()


def test_bad_paths_are_configuration_errors(tmp_path):
    with pytest.raises(mp.ConfigurationError, match="is a directory") as info:
        mp.AuditLog(tmp_path)
    assert info.value.parameter == "path"
    assert "audit.jsonl" in str(info.value)
    for bad in (None, 5, b"a.jsonl"):
        with pytest.raises(mp.ConfigurationError, match="must be a file path"):
            mp.AuditLog(bad)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(mp.ConfigurationError, match="cannot open audit log"):
        mp.AuditLog(tmp_path / "afile" / "audit.jsonl")


# -- the verdict as a result ------------------------------------------------------------------


def test_the_verdict_is_a_frozen_rendered_result(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        log.append({"event": "deploy"})
    good = mp.verify_audit_log(path)
    assert type(good).__module__ == "mlprod"
    assert type(mp.AuditLog(path)).__module__ == "mlprod"
    with pytest.raises(dataclasses.FrozenInstanceError):
        good.ok = False  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(good)) == good
    assert good.summary().startswith("Audit log verification: passed")
    assert "1 records verify" in good.to_markdown()
    assert "mlprod-ok" in good._repr_html_()
    path.write_bytes(path.read_bytes().replace(b"deploy", b"delete"))
    bad = mp.verify_audit_log(path)
    html = bad.to_html(tmp_path / "verdict.html")
    assert (tmp_path / "verdict.html").read_text() == html
    assert "hash_mismatch" in html
    assert "mlprod-callout-bad" in html
    assert bad.to_dict()["reason"] == "hash_mismatch"
    assert verify_lines([]).to_dict()["segments"] == 1


def test_cli_verifies_rotated_segments_as_one_chain(tmp_path, capsys):
    from mlprod.cli import main

    path = tmp_path / "audit.jsonl"
    log = mp.AuditLog(path)
    log.append({"i": 0})
    os.rename(path, tmp_path / "audit.jsonl.1")
    log.reopen()
    log.append({"i": 1})
    log.close()
    old = str(tmp_path / "audit.jsonl.1")
    assert main(["audit", "verify", old, str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {old} … {path}: 4 records verify across 2 files")
    assert main(["audit", "verify", str(path), old]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["audit", "verify", str(path), "--json"]) == 0
    assert '"first_seq": 2' in capsys.readouterr().out


def test_a_file_cut_under_a_writer_is_recorded_in_the_chain(tmp_path):
    """copytruncate (or an attacker) shortens the file: the writer says so in its next record."""
    import shutil

    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path)
    for i in range(3):
        log.append({"i": i})
    head = log.head
    size = path.stat().st_size
    shutil.copy(path, tmp_path / "a.jsonl.1")  # copytruncate: copy, then truncate in place
    os.truncate(path, 0)
    log.append({"i": 3})
    log.close()
    first, second = (e["record"] for e in mp.read_audit_log(path))
    assert first == {
        "event": "audit.file_shrank",
        "expected_bytes": size,
        "found_bytes": 0,
        "last_known_head": head,
    }
    assert second == {"i": 3}
    assert mp.verify_audit_log(path).ok  # a chain of its own, from the genesis
    joined = mp.verify_audit_log([tmp_path / "a.jsonl.1", path])
    assert not joined.ok
