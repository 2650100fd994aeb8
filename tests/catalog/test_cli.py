import io
from pathlib import Path

import pytest

from ceiba.catalog.cli import main

PACKS = Path(__file__).resolve().parents[2] / "packs"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_check_valid_packs_prints_a_summary() -> None:
    status, out, err = run(["check", str(PACKS)])
    assert status == 0
    assert err == ""
    assert out.splitlines()[-1] == "5 service definition(s) valid"
    assert "civil-registry.birth-certificate-copy 1.0.0" in out


def test_check_prints_every_error_as_file_line_path_message(tmp_path: Path) -> None:
    # given
    text = (PACKS / "education" / "school-enrollment.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("to: enrolled", "to: enroled"), encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [\n", encoding="utf-8")
    line = text[: text.index("to: enrolled")].count("\n") + 1
    # when
    status, out, err = run(["check", str(bad), str(broken), str(PACKS)])
    # then
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == (
        f"{bad}:{line}: workflow.transitions[4].to: unknown state 'enroled'; "
        "did you mean 'enrolled'?"
    )
    assert any(entry.startswith(f"{broken}:2: invalid YAML") for entry in lines)
    assert lines[-1].endswith("in 2 file(s)")


@pytest.mark.parametrize("argv", [[], ["check"], ["load", "x"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage" in capsys.readouterr().err
