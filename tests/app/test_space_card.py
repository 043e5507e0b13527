"""The Hugging Face Space configuration: README front matter (parsed by huggingface_hub), the
Dockerfile (port, user, CPU torch wheel, the start command) and the Streamlit config. The
Dockerfile's own install commands run here (as pip dry runs against this environment)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from space_support import (
    REPO,
    dockerfile_env,
    dockerfile_instructions,
    pip_installs,
    start_command,
)


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
    # explorer.serve runs `streamlit run explorer/Home.py <options>`, then warms the caches
    assert argv[:3] == ["python", "-m", "explorer.serve"]
    assert "--server.port=8501" in argv and "--server.address=0.0.0.0" in argv
    assert "--server.headless=true" in argv
    # the CMD's module exists in the repo (the e2e test starts this very command)
    assert (REPO / "explorer" / "serve.py").is_file()


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


def test_the_user_owns_every_folder_the_app_writes():
    instructions = dockerfile_instructions()
    names = [n for n, _ in instructions]
    # USER before WORKDIR: the app folder is made by UID 1000, not by root
    assert names.index("USER") < names.index("WORKDIR")
    workdir = next(a for n, a in instructions if n == "WORKDIR")
    env = dockerfile_env(Path("/home/user"))  # the image's own paths
    for var in ("TGAN_RUNS", "TGAN_DATA"):  # writable roots outside the shipped app folder
        assert env[var].startswith(env["HOME"]) and not env[var].startswith(workdir), var


def test_the_image_installs_no_test_tools():
    runtime = set(requirement_pins())
    for tool in ("pytest", "pytest-timeout", "ruff", "playwright"):
        assert tool not in runtime, f"{tool} is in requirements.txt (the image's install)"
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and "pytest==" in dev and "playwright==" in dev
    for argv in pip_installs():
        assert "requirements-dev.txt" not in argv


def test_the_image_fetches_mnist_and_fashion_and_an_offline_build_goes_on():
    instructions = dockerfile_instructions()
    fetch = [i for i, (n, a) in enumerate(instructions) if n == "RUN" and "core data" in a]
    assert len(fetch) == 1
    args = instructions[fetch[0]][1]
    assert "mnist" in args and "fashion" in args and "|| echo" in args  # offline: a note
    offline = [i for i, (n, a) in enumerate(instructions) if n == "ENV" and "TGAN_OFFLINE=1" in a]
    assert offline and offline[0] > fetch[0]  # the fetch runs before downloads are turned off


def test_every_binary_and_every_large_file_goes_to_lfs():
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    needs_lfs = []
    for name in filter(None, files):
        path = REPO / name.decode()
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            head = handle.read(8000)
        if b"\0" in head or path.stat().st_size > 1_000_000:  # git's binary test, or big
            needs_lfs.append(name.decode())
    assert len(needs_lfs) > 50  # the zoo's weights and grids are found at all
    attrs = subprocess.run(
        ["git", "check-attr", "filter", "--stdin"],
        cwd=REPO,
        input="\n".join(needs_lfs),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    missing = [line.split(":")[0] for line in attrs if not line.endswith(": lfs")]
    assert not missing, f"not sent to LFS by .gitattributes: {missing[:10]}"
