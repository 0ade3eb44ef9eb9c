"""What the published archives carry: the wheel and the sdist, built from a copy of the
repository with the project's own build backend (no network), both hold the Apache-2.0
LICENSE the metadata declares, and the wheel the files ``init`` writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from operator_iac import __version__

REPO = Path(__file__).resolve().parents[2]
BUILD = """\
import pathlib, sys
from setuptools import build_meta
out = pathlib.Path(sys.argv[1])
names = [build_meta.build_sdist(str(out)), build_meta.build_wheel(str(out))]
(out.parent / "built.txt").write_text("\\n".join(names))
"""


def _license_text() -> str:
    return (REPO / "LICENSE").read_text(encoding="utf-8")


def test_the_license_is_the_apache_2_text() -> None:
    text = _license_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_wheel_and_the_sdist_carry_the_license(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "operator_iac", source / "operator_iac",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "dist"
    out.mkdir()
    built = subprocess.run([sys.executable, "-c", BUILD, str(out)], cwd=source,
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    sdist_name, wheel_name = (tmp_path / "built.txt").read_text().split()

    with zipfile.ZipFile(out / wheel_name) as wheel:
        dist_info = f"operator_iac-{__version__}.dist-info"
        assert wheel.read(f"{dist_info}/licenses/LICENSE").decode() == _license_text()
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
        assert "License-Expression: Apache-2.0" in metadata
        assert "License-File: LICENSE" in metadata
        # `operator-iac init` reads its files from the package.
        names = wheel.namelist()
        for template in ("operator-iac.yaml", "agents/front-desk.yaml",
                         "agents/prompts/front-desk.md", "ci/github.yml"):
            assert f"operator_iac/services/init_files/{template}" in names, template
    with tarfile.open(out / sdist_name) as sdist:
        member = sdist.extractfile(f"operator_iac-{__version__}/LICENSE")
        assert member is not None and member.read().decode() == _license_text()
