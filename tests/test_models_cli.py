"""`retouch models ...` as a user types it: JSON listings, one-line refusals, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retouch.cli import main
from retouch.models.registry import list_models


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETOUCH_OFFLINE", "0")  # recorded, so the CLI's --offline (which sets it) is undone too
    return tmp_path / "home"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.mark.parametrize("flag_first", [False, True])
def test_list_json(capsys: pytest.CaptureFixture[str], flag_first: bool) -> None:
    args = ("--json", "models", "list") if flag_first else ("models", "list", "--json")
    code, out, err = run_cli(capsys, *args)
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [r["name"] for r in rows] == [s.name for s in list_models()]
    isnet = next(r for r in rows if r["name"] == "isnet-imgly")
    assert isnet["license"] == "AGPL-3.0" and isnet["permissive"] is False and isnet["installed"] is False
    assert isnet["size"] == 88_188_479


def test_list_table_filters_by_task(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "models", "list", "--task", "erase")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAME", "TASK", "LICENSE", "SIZE", "INSTALLED"]
    assert {line.split()[0] for line in lines[1:]} == {s.name for s in list_models("erase")}
    assert "196.1 MiB" in out and all(line.rstrip().endswith("no") for line in lines[1:])
    code, _, err = run_cli(capsys, "models", "list", "--task", "inpaint")
    assert code == 2 and err.startswith("retouch: error: unknown task")


def test_pull_of_an_opt_in_model_without_accepting_refuses_in_one_line(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    code, out, err = run_cli(capsys, "models", "pull", "isnet-imgly")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "AGPL-3.0" in err and "retouch models pull isnet-imgly --accept-license" in err
    assert not (home / "models" / "isnet-imgly").exists()


def test_unknown_model_and_missing_weights_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "models", "path", "no-such-model")
    assert code == 2 and "known models: big-lama" in err
    code, _, err = run_cli(capsys, "models", "path", "migan")
    assert code == 2 and err.count("\n") == 1 and err.rstrip().endswith("run: retouch models pull migan")
    code, out, _ = run_cli(capsys, "models", "verify")
    lines = out.strip().splitlines()  # only models shipped by installed packages, if any, all intact
    assert code == 0 and (lines == ["no model is installed"] or all(line.startswith("ok ") for line in lines))
    code, _, err = run_cli(capsys, "models", "verify", "migan")
    assert code == 2 and "migan/migan_pipeline_v2.onnx (missing)" in err


def test_offline_pull_fails_without_touching_the_network(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--offline", "models", "pull", "migan")
    assert code == 2 and "offline mode" in err
