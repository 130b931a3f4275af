"""mp.environment(): cheap, cached, and aware of git state without running git."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import mlprod as mp
from mlprod._internal import environment as env_mod

git = shutil.which("git")


def test_shape_and_packages():
    env = mp.environment()
    assert set(env) == {"python", "platform", "packages", "git"}
    assert env["packages"]["mlprod"] == mp.__version__
    assert env["packages"]["numpy"]
    assert env["python"]["version"].startswith("3.")


def test_is_cached_and_returns_copies():
    a = mp.environment()
    a["packages"]["mlprod"] = "tampered"
    assert mp.environment()["packages"]["mlprod"] == mp.__version__


@pytest.mark.skipif(git is None, reason="git not installed")
def test_git_commit_branch_and_dirty_flag(tmp_path, monkeypatch):
    def run(*args):
        subprocess.run(
            ["git", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            env={
                **os.environ,
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@t",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@t",
            },
        )

    run("init", "-q", "-b", "trunk")
    (tmp_path / "a.txt").write_text("one\n")
    run("add", "a.txt")
    run("commit", "-q", "-m", "first")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    monkeypatch.chdir(tmp_path)
    state = mp.environment(refresh=True)["git"]
    assert state == {"commit": head, "branch": "trunk", "dirty": False}

    (tmp_path / "a.txt").write_text("one\ntwo, a longer line\n")
    assert mp.environment(refresh=True)["git"]["dirty"] is True

    run("add", "a.txt")
    run("commit", "-q", "-m", "second")
    state = mp.environment(refresh=True)["git"]
    assert state["dirty"] is False
    assert state["commit"] != head


def test_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert env_mod._git_state(str(tmp_path)) is None
