"""The mlprod command: version, info, usage errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import mlprod as mp
from mlprod.cli import main


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "mlprod", *args], capture_output=True, text=True, timeout=120
    )


def test_version():
    res = _run("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"mlprod {mp.__version__}"


def test_info_text_and_json():
    res = _run("info")
    assert res.returncode == 0
    assert "python" in res.stdout
    assert "numpy" in res.stdout
    res = _run("info", "--json")
    assert res.returncode == 0
    assert json.loads(res.stdout)["packages"]["mlprod"] == mp.__version__


def test_unknown_flag_is_a_usage_error():
    res = _run("--bogus")
    assert res.returncode == 2
    assert "usage: mlprod" in res.stderr


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().err


def test_console_script_is_installed():
    import shutil
    from pathlib import Path

    exe = shutil.which("mlprod") or str(Path(sys.executable).with_name("mlprod"))
    res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    assert mp.__version__ in res.stdout


def test_failed_checks_exit_1_and_bad_input_exits_2(monkeypatch, capsys):
    import argparse

    from mlprod import cli

    def build(raising):
        parser = argparse.ArgumentParser(prog="mlprod")

        def handler(_args):
            raise raising

        parser.set_defaults(handler=handler)
        return parser

    monkeypatch.setattr(cli, "build_parser", lambda: build(mp.IntegrityError("bytes changed")))
    assert main([]) == 1
    assert "IntegrityError: bytes changed" in capsys.readouterr().err
    monkeypatch.setattr(cli, "build_parser", lambda: build(mp.NotFound("model", "x")))
    assert main([]) == 2
    assert "No model 'x'" in capsys.readouterr().err
