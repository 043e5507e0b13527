"""The Hugging Face Space configuration: README front matter (parsed by huggingface_hub), the
Dockerfile (port, user, CPU torch wheel, the start command) and the Streamlit config. The
Dockerfile's own install commands run here (as pip dry runs against this environment)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from space_support import REPO, dockerfile_instructions, pip_installs, start_command


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_readme_front_matter_is_a_docker_space_card():
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(REPO / "README.md")
    data = card.data.to_dict()
    assert data["sdk"] == "docker"
    assert int(data["app_port"]) == 8501
    assert data["title"] and data["emoji"]
    assert "# t-GAN Explorer" in card.text  # the README body survives under the front matter


def test_dockerfile_runs_the_app_as_uid_1000_on_8501():
    instructions = dockerfile_instructions()
    names = [n for n, _ in instructions]
    assert names[0] == "FROM" and "python:3.11" in instructions[0][1]
    assert any(n == "RUN" and "useradd" in a and "-u 1000" in a for n, a in instructions)
    assert ("USER", "user") in instructions
    assert ("EXPOSE", "8501") in instructions
    argv = start_command()
    assert argv[:3] == ["streamlit", "run", "explorer/Home.py"]
    assert "--server.port=8501" in argv and "--server.address=0.0.0.0" in argv
    assert "--server.headless=true" in argv
    # the CMD's paths exist in the repo (the e2e test starts this very command)
    assert (REPO / argv[2]).is_file()


def test_dockerfile_installs_the_cpu_torch_wheel_with_the_pinned_versions():
    installs = pip_installs()
    pins = requirement_pins()
    torch_cmd = next(c for c in installs if any(a.startswith("torch==") for a in c))
    assert "https://download.pytorch.org/whl/cpu" in torch_cmd
    for arg in torch_cmd:
        if "==" in arg:
            name, version = arg.split("==")
            assert pins[name.lower()] == version, f"{name} pin differs from requirements.txt"
    assert any("requirements.txt" in c for c in installs)


def test_dockerfile_install_commands_resolve_in_this_environment():
    # The same pip commands, as dry runs: everything they name is installable at those pins and
    # already satisfied here (so no network is needed and nothing would change).
    for argv in pip_installs():
        assert argv[:2] == ["pip", "install"]
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", *argv[2:]]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "Would install" not in done.stdout, done.stdout[-2000:]


def test_streamlit_config_turns_the_file_watcher_off():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_dockerignore_keeps_data_and_runs_out():
    ignored = (REPO / ".dockerignore").read_text().split()
    for name in (".git", ".venv", "data", "runs", "artifacts"):
        assert name in ignored
