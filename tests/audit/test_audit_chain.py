"""The audit chain: tamper detection as properties, crashes, batching, several writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import mlprod as mp
from mlprod.audit import GENESIS, line_hash, seal, tail_audit_log, verify_lines

records = st.lists(
    st.dictionaries(
        st.sampled_from(["event", "model", "outcome", "hash", "n", "note"]),
        st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=20), st.booleans(), st.none()),
        max_size=4,
    ),
    min_size=1,
    max_size=8,
)


def _chain(recs):
    lines, prev = [], GENESIS
    for i, rec in enumerate(recs):
        line = seal(rec, seq=i, prev=prev, ts=1000.0 + i)
        lines.append(line)
        prev = line_hash(line)
    return lines


def _file(recs):
    return b"".join(line + b"\n" for line in _chain(recs))


def _verify_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("a") / "audit.jsonl"
    path.write_bytes(data)
    return mp.verify_audit_log(path)


@given(records, st.data())
def test_any_single_byte_change_is_detected(tmp_path_factory, recs, data):
    original = _file(recs)
    pos = data.draw(st.integers(0, len(original) - 1), label="position")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != original[pos]), label="byte")
    changed = original[:pos] + bytes([new]) + original[pos + 1 :]
    verdict = _verify_bytes(tmp_path_factory, changed)
    assert not verdict.ok, (pos, new, verdict)
    assert verdict.reason != "truncated_tail"


@given(records, st.data())
def test_deleted_inserted_or_reordered_records_are_detected(recs, data):
    assume(len(recs) >= 2)
    lines = _chain(recs)
    i = data.draw(st.integers(0, len(lines) - 2), label="index")
    deleted = lines[:i] + lines[i + 1 :]
    inserted = [*lines[: i + 1], lines[i], *lines[i + 1 :]]
    swapped = list(lines)
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    forged = [
        *lines[:i],
        seal({"forged": True}, seq=i, prev=line_hash(lines[i - 1]) if i else GENESIS),
    ]
    for variant in (deleted, inserted, swapped, forged + lines[i + 1 :]):
        verdict = verify_lines(variant)
        assert not verdict.ok
        assert verdict.first_bad is not None
        assert verdict.first_bad <= i + 1


@given(records)
def test_removing_the_last_records_needs_a_pinned_head(recs):
    lines = _chain(recs)
    head = line_hash(lines[-1])
    assert verify_lines(lines, pinned_head=head).ok
    shortened = verify_lines(lines[:-1], pinned_head=head)
    assert not shortened.ok
    assert shortened.reason == "head_missing"


@given(records, st.data())
def test_crash_mid_record_is_a_truncated_tail_not_tampering(tmp_path_factory, recs, data):
    lines = _chain(recs)
    good = b"".join(line + b"\n" for line in lines[:-1])
    cut = data.draw(st.integers(1, len(lines[-1])), label="cut")
    verdict = _verify_bytes(tmp_path_factory, good + lines[-1][:cut])
    assert verdict.ok
    assert verdict.reason == "truncated_tail"
    complete = cut == len(lines[-1])  # only the newline is missing
    assert verdict.records == len(lines) - (0 if complete else 1)
    assert verdict.first_bad is None


def test_stray_bytes_after_the_last_record_are_tampering(tmp_path):
    data = _file([{"a": 1}])
    path = tmp_path / "a.jsonl"
    path.write_bytes(data + b'{"seq":5,"ts":1')
    assert mp.verify_audit_log(path).reason == "malformed"
    path.write_bytes(data[:-1] + b"x")
    assert not mp.verify_audit_log(path).ok


def test_missing_and_empty_logs(tmp_path):
    assert mp.verify_audit_log(tmp_path / "nope.jsonl").reason == "missing"
    (tmp_path / "empty.jsonl").write_bytes(b"")
    verdict = mp.verify_audit_log(tmp_path / "empty.jsonl")
    assert (verdict.ok, verdict.records, verdict.head) == (True, 0, GENESIS)


def test_writer_repairs_a_torn_tail_and_continues_the_chain(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        for i in range(3):
            log.append({"i": i})
    whole = path.read_bytes()
    path.write_bytes(whole[:-25])  # crash: the last record lost its end
    assert mp.verify_audit_log(path).truncated_tail
    with mp.AuditLog(path) as log:
        assert log.append({"i": "after"}) == 3
    verdict = mp.verify_audit_log(path)
    assert (verdict.ok, verdict.reason, verdict.records) == (True, "ok", 4)
    events = [r["record"] for r in mp.read_audit_log(path)]
    assert events[2]["event"] == "audit.truncated_tail_repaired"
    assert events[2]["dropped_bytes"] > 0
    assert events[3] == {"i": "after"}


def test_writer_keeps_a_record_that_only_lost_its_newline(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        log.append({"i": 0})
    path.write_bytes(path.read_bytes()[:-1])
    with mp.AuditLog(path) as log:
        assert log.append({"i": 1}) == 1
    assert [r["record"] for r in mp.read_audit_log(path)] == [{"i": 0}, {"i": 1}]


def test_writer_refuses_to_extend_a_tampered_log(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        log.append({"amount": 100})
    path.write_bytes(path.read_bytes().replace(b"100", b"999"))
    with pytest.raises(mp.IntegrityError, match="does not verify") as info:
        mp.AuditLog(path)
    assert info.value.path == str(path)
    path.write_bytes(b'{"seq":0,"ts":1.0,"prev":"' + b"1" * 64 + b'"')
    with pytest.raises(mp.IntegrityError, match="bytes no writer produced"):
        mp.AuditLog(path)


def test_a_batched_writer_knows_its_sequence_numbers_from_the_start(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        log.append({"i": 0})
    with mp.AuditLog(path, flush_every=10) as log:
        assert log.append({"i": 1}) == 1
        assert log.head == mp.verify_audit_log(path).head


def _crashing_writer(path, n):
    log = mp.AuditLog(path, flush_every=10)
    for i in range(n):
        log.append({"i": i})
    os._exit(0)  # a crash: no close, no atexit flush


def test_crash_loses_at_most_the_unflushed_batch(tmp_path):
    path = tmp_path / "a.jsonl"
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_crashing_writer, args=(str(path), 25))
    p.start()
    p.join(30)
    verdict = mp.verify_audit_log(path)
    assert verdict.ok
    assert verdict.records == 20


def test_batching_flushes_on_count_delay_close_and_exit(tmp_path):
    path = tmp_path / "a.jsonl"
    log = mp.AuditLog(path, flush_every=3)
    assert [log.append({"i": i}) for i in range(2)] == [0, 1]
    assert log.pending == 2
    assert not path.read_bytes()
    log.append({"i": 2})
    assert log.pending == 0
    assert mp.verify_audit_log(path).records == 3
    log.append({"i": 3})
    log.close()
    assert mp.verify_audit_log(path).records == 4
    with pytest.raises(mp.ConfigurationError, match="closed"):
        log.append({"i": 4})
    script = (
        "import mlprod as mp, sys\n"
        "log = mp.AuditLog(sys.argv[1], flush_every=100)\n"
        "log.append({'at': 'exit'})\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    assert mp.verify_audit_log(path).records == 5


def test_max_delay_flushes_an_old_batch(tmp_path, monkeypatch):
    import mlprod.audit.chain as audit

    now = [1000.0]
    monkeypatch.setattr(audit.time, "time", lambda: now[0])
    log = mp.AuditLog(tmp_path / "a.jsonl", flush_every=100, max_delay_s=5)
    log.append({"i": 0})
    now[0] += 6
    log.append({"i": 1})
    assert log.pending == 0
    log.close()


def _writer(path, who, n):
    log = mp.AuditLog(path, flush_every=1 if who % 2 else 7)
    for i in range(n):
        log.append({"writer": who, "i": i})
    log.close()


def test_several_processes_append_to_one_valid_chain(tmp_path):
    path = str(tmp_path / "shared.jsonl")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    verdict = mp.verify_audit_log(path)
    assert verdict.ok
    assert verdict.records == 600
    per_writer = {}
    for entry in mp.read_audit_log(path):
        rec = entry["record"]
        per_writer.setdefault(rec["writer"], []).append(rec["i"])
    assert all(v == list(range(150)) for v in per_writer.values())


def test_threads_share_one_log(tmp_path):
    import threading

    log = mp.AuditLog(tmp_path / "a.jsonl")
    threads = [
        threading.Thread(target=lambda: [log.append({"t": 1}) for _ in range(200)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.verify().records == 800
    log.close()


def test_tail_reads_from_the_end(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path, flush_every=50) as log:
        for i in range(1000):
            log.append({"i": i, "pad": "x" * 50})
    assert [r["record"]["i"] for r in tail_audit_log(path, 3)] == [997, 998, 999]
    assert len(tail_audit_log(path, 5000)) == 1000
    assert tail_audit_log(path, 0) == []


def test_seal_is_stable_for_the_registry():
    line = seal({"b": 1, "a": [True, None]}, seq=0, prev=GENESIS, ts=0.0)
    assert line.startswith(b'{"seq":0,"ts":0.0,"prev":"' + GENESIS.encode() + b'","record":')
    assert b'"record":{"a":[true,null],"b":1}' in line
    assert verify_lines([line]).head == line_hash(line)
    verdict = verify_lines([line])
    assert verdict.to_dict() == {
        "ok": True,
        "records": 1,
        "first_bad": None,
        "reason": "ok",
        "head": line_hash(line),
        "detail": "1 records verify",
        "first_seq": 0,
        "segments": 1,
    }
    assert bool(verdict)


@given(records, st.integers(1, 64))
def test_streaming_across_chunk_boundaries_gives_the_same_verdicts(tmp_path_factory, recs, chunk):
    import mlprod.audit.chain as audit

    data = _file(recs)
    path = tmp_path_factory.mktemp("s") / "a.jsonl"
    original = audit._CHUNK
    try:
        audit._CHUNK = chunk
        path.write_bytes(data)
        whole = mp.verify_audit_log(path)
        entries = [e["record"] for e in mp.read_audit_log(path)]
        path.write_bytes(data[:-7])
        torn = mp.verify_audit_log(path)
        torn_entries = list(mp.read_audit_log(path))
    finally:
        audit._CHUNK = original
    assert (whole.ok, whole.records) == (True, len(recs))
    assert entries == [json.loads(json.dumps(r)) for r in recs]
    assert (torn.ok, torn.reason, torn.records) == (True, "truncated_tail", len(recs) - 1)
    assert len(torn_entries) == len(recs) - 1


def test_a_log_growing_during_verification_is_judged_as_it_was(tmp_path):
    path = tmp_path / "a.jsonl"
    with mp.AuditLog(path) as log:
        for i in range(3):
            log.append({"i": i})
    from mlprod.audit.chain import _stream

    lines, torn = _stream(path)
    with open(path, "ab") as f:
        f.write(b'{"seq":3,"ts":1')  # another writer, mid-record
    assert not torn
    assert verify_lines(lines, torn_tail=torn).records == 3


@given(records, st.data())
def test_any_other_sequence_of_the_records_fails_verification(recs, data):
    """Dropped, duplicated or reordered records, anywhere: only the chain itself verifies."""
    lines = _chain(recs)
    head = line_hash(lines[-1])
    order = data.draw(
        st.lists(st.integers(0, len(lines) - 1), max_size=len(lines) + 2), label="order"
    )
    verdict = verify_lines([lines[i] for i in order], pinned_head=head)
    assert verdict.ok == (order == list(range(len(lines)))), (order, verdict)
    if not verdict.ok:
        assert verdict.reason in {
            "sequence_gap",
            "duplicate",
            "broken_chain",
            "head_missing",
        }


@given(records, st.data())
def test_a_duplicated_record_is_named_as_a_duplicate(recs, data):
    lines = _chain(recs)
    i = data.draw(st.integers(0, len(lines) - 1), label="index")
    verdict = verify_lines([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    assert (verdict.ok, verdict.reason, verdict.first_bad) == (False, "duplicate", i + 1)


@given(records, st.integers(1, 4), st.data())
def test_rotated_segments_verify_only_in_order_and_complete(tmp_path_factory, recs, cuts, data):
    """A log cut into segment files: dropping, repeating or swapping a file fails."""
    folder = tmp_path_factory.mktemp("rot")
    path = folder / "audit.jsonl"
    log = mp.AuditLog(path)
    files = []
    for n, rec in enumerate(recs):
        log.append(rec)
        if n < cuts:
            files.append(folder / f"audit.jsonl.{n}")
            os.rename(path, files[-1])
            log.reopen()
    log.close()
    files.append(path)
    assert mp.verify_audit_log(files).ok
    order = data.draw(st.lists(st.integers(0, len(files) - 1), min_size=1), label="files")
    verdict = mp.verify_audit_log([files[i] for i in order], pinned_head=log.head)
    in_order_tail = order == list(range(order[0], len(files)))
    assert verdict.ok == in_order_tail, (order, verdict)
    if verdict.ok:
        assert (verdict.first_seq == 0) == (order[0] == 0)


def test_an_unencodable_record_is_refused_naming_where_and_nothing_is_written(tmp_path):
    import numpy as np

    path = str(tmp_path / "audit.jsonl")
    log = mp.AuditLog(path)
    log.append({"ok": 1})
    with pytest.raises(mp.EncodingError) as info:
        log.append({"inputs": {"z": [np.complex128(1j)]}})
    assert info.value.path == ("inputs", "z", 0)
    log.append({"ok": 2})
    log.close()
    report = mp.verify_audit_log(path)
    assert report.ok
    assert report.records == 2
