"""The README's quick start, run as a newcomer runs it, so that it stays true.

A fresh `git clone` of this repository (its committed HEAD) in a temp dir; in it, the README's
"Quick start" commands in order: `make run` in one shell (with the embedded PostgreSQL, Redis
and localstripe, none of this test session's servers), until it prints its banner; the
commands the README shows "from another shell", as written, in a second shell; Ctrl-C; then
`make run` again, which must come up on the same ports, and Ctrl-C again.

The shells are what a newcomer's terminal has: PATH without any virtualenv, HOME, and PORT
(a free one: 8000 may be taken on a shared machine; the README's URLs say 8000 and are compared
with that port put in). One shortcut, and only one: the clone's `.venv` is a symlink to the venv
running this test, so `make run` finds the pinned packages installed (it still runs its
`pip install -r requirements.txt` step, which has nothing to do) instead of downloading them.

Time budget: about 30 s on the 2-core dev machine (measured 28-38 s: a first start with initdb
and every migration, a second start, two clean stops); the timeout below is 7 minutes, for a
machine busy with other test runs.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harbor.devservices.base import free_port, pid_alive
from harbor.devservices.procfile import read_procfile

BASE_DIR = Path(__file__).resolve().parent.parent
README = BASE_DIR / "README.md"
RULE = "=" * 72

pytestmark = pytest.mark.timeout(420)


def quick_start():
    """(shell 1 commands, shell 2 commands, the banner as the README shows it), from the
    README's "Quick start" section: its first ```sh block, the ```sh block after "From another
    shell", and its ```text block."""
    text = README.read_text()
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    shell_blocks = [body for lang, body in blocks if lang == "sh"]
    banner = next(body for lang, body in blocks if lang == "text")
    other = section.split("From another shell", 1)[1]
    second = re.search(r"```sh\n(.*?)```", other, re.S).group(1)
    return shell_blocks[0], second, banner


def newcomer_env(port):
    venvs = {str(Path(sys.prefix) / "bin"), str(BASE_DIR / ".venv" / "bin")}
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and p not in venvs)
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", "TERM": "dumb",
           "PORT": str(port)}
    if "USER" in os.environ:
        env["USER"] = os.environ["USER"]
    return env


class Shell1:
    """`make run` in its own session, as a terminal runs it: Ctrl-C is SIGINT to its group."""

    def __init__(self, clone, commands, env, log):
        self.clone, self.log = clone, log
        self.out = open(log, "wb")
        self.proc = subprocess.Popen(["bash", "-c", commands], cwd=clone, env=env, stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def text(self):
        return self.log.read_text(errors="replace")

    def wait_for_banner(self, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if "Ctrl-C stops everything" in text and text.rstrip().endswith(RULE):
                return text
            if self.proc.poll() is not None:
                pytest.fail(f"make run exited with {self.proc.returncode} before its banner:\n{text[-3000:]}")
            time.sleep(0.5)
        pytest.fail(f"no banner within {timeout} s:\n{self.text()[-3000:]}")

    def ctrl_c(self, timeout=90):
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        finally:
            self.out.close()

    def kill(self):
        """After a failure: whatever is left, including the embedded servers (own sessions)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for state in (self.clone / "var").glob("*/state.json"):
            try:
                os.killpg(json.loads(state.read_text())["pid"], signal.SIGKILL)
            except (OSError, ValueError, KeyError):
                pass
        self.out.close()


def run_shell2(clone, commands, env):
    """The README's "another shell" commands, as written, in one bash (they share the
    environment that `. var/devservices.env` sets), stopping at the first that fails."""
    done = subprocess.run(["bash", "-e", "-c", commands], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{commands}\nfailed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def embedded_servers(clone):
    return {state.parent.name: json.loads(state.read_text()) for state in (clone / "var").glob("*/state.json")}


def assert_banner_as_the_readme_shows(output, shown, port):
    printed = output.rsplit(RULE, 2)[-2]  # between the last two rules
    for line in shown.splitlines():
        if not line.strip() or line.strip() in ("…", RULE):
            continue
        expected = re.escape(line.rstrip().replace("8000", str(port))).replace(r"\(23\ s\)", r"\(\d+\ s\)")
        assert re.search(f"^{expected}$", printed, re.M), f"the README shows {line!r}; make run printed:\n{printed}"


def assert_clean_stop(output, code, servers):
    # make, like any program on Ctrl-C, ends by the SIGINT itself once its child is done (-2;
    # 130 from a shell): the output, not the exit status, says whether the stop was clean.
    assert code in (0, -signal.SIGINT, 128 + signal.SIGINT), output[-3000:]
    tail = output.rsplit(RULE, 1)[-1]
    for name in read_procfile(BASE_DIR / "Procfile"):
        assert re.search(rf"\| {name}\.1 stopped$", tail, re.M), f"{name} did not say it stopped:\n{tail}"
    assert "rc=" not in tail and "unexpectedly" not in tail and "Error" not in tail, tail
    assert tail.rstrip().splitlines()[-1].startswith("devservices: Harbor stopped"), tail
    for name, state in servers.items():
        assert not pid_alive(state["pid"]), f"{name} (pid {state['pid']}) is still running"


def test_the_readme_quick_start_works_as_written(tmp_path):
    shell1_commands, shell2_commands, banner_shown = quick_start()
    assert shell1_commands.strip() == "make run"
    clone = tmp_path / "harbor"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", str(BASE_DIR), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", head], cwd=clone, check=True)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    port = free_port()
    env = newcomer_env(port)

    # Shell 1: make run, until it says the shop is ready.
    shell1 = Shell1(clone, shell1_commands, env, tmp_path / "shell1.log")
    try:
        output = shell1.wait_for_banner()
        assert_banner_as_the_readme_shows(output, banner_shown, port)
        # Quiet: no Celery banners or task lists, Celery's root warning never repeated.
        assert "[tasks]" not in output and "-------------- " not in output and "LocalTime" not in output
        assert output.count("superuser privileges") == 0 and output.count("running as root") <= 1
        # Last: every worker said it was ready before the banner.
        before_banner = output.rsplit(RULE, 2)[0]
        assert re.search(r"payments@\S+ ready\.", before_banner) and re.search(r"worker@\S+ ready\.", before_banner)
        first_env = (clone / "var" / "devservices.env").read_text()

        # Shell 2: the README's commands from another shell, as written.
        shown = run_shell2(clone, shell2_commands, env)
        assert re.search(r"^Workers alive:\s+3 ", shown, re.M), shown
        assert "reconcile:" in shown

        servers = embedded_servers(clone)
        assert set(servers) == {"postgres", "redis", "localstripe"}
        code = shell1.ctrl_c()
        output = shell1.text()
        assert_clean_stop(output, code, servers)
        assert not (clone / "var" / "devservices.env").exists()
    finally:
        shell1.kill()

    # Start again: the same ports (a shell that sourced the env file stays right), the data kept.
    shell1 = Shell1(clone, shell1_commands, env, tmp_path / "shell1-again.log")
    try:
        output = shell1.wait_for_banner()
        assert "database: up to date" in output
        assert (clone / "var" / "devservices.env").read_text() == first_env
        run_shell2(clone, shell2_commands, env)
        servers = embedded_servers(clone)
        code = shell1.ctrl_c()
        assert_clean_stop(shell1.text(), code, servers)
    finally:
        shell1.kill()
        shutil.rmtree(clone / "var", ignore_errors=True)
