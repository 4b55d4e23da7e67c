"""`netspec check` and `sweep` need neither TensorFlow nor Keras, and never import them.

Each test runs a fresh interpreter, so nothing this test process imported can leak in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import GOOGLENET, REPO

# Any `import tensorflow...` or `import keras...` fails, as on a machine without them.
BLOCKER = textwrap.dedent(
    """
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "keras"):
                raise ImportError(f"{name} is blocked: the front end must not need it")
            return None

    sys.meta_path.insert(0, Blocker())
    """
)


def run(script: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_blocker_really_blocks() -> None:
    result = run(BLOCKER + "import tensorflow\n")
    assert result.returncode != 0
    assert "ImportError: tensorflow is blocked" in result.stderr


def test_check_runs_with_tensorflow_and_keras_unimportable() -> None:
    script = BLOCKER + "from netspec.cli import app\napp()\n"
    result = run(script, "check", GOOGLENET.relative_to(REPO), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = json.loads(result.stdout)["reports"]
    assert (report["total_params"], report["total_params_with_aux"]) == (6_998_552, 13_378_280)
    assert report["total_macs"] == 1_582_671_872
    table = run(script, "check", GOOGLENET.relative_to(REPO))
    assert table.returncode == 0, table.stdout + table.stderr
    assert "6,998,552" in table.stdout


def test_check_leaves_tensorflow_and_keras_unimported() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from netspec.cli import app
        try:
            app(["check", sys.argv[1], "--no-layers"])
        except SystemExit as done:
            code = done.code
        loaded = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras"})
        print(json.dumps({"exit": code, "loaded": loaded}))
        """
    )
    result = run(script, GOOGLENET.relative_to(REPO))
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"exit": 0, "loaded": []}


def test_the_netspec_command_mounts_the_backend_without_loading_tensorflow() -> None:
    # `main` finds the backend through the `netspec.commands` entry point (pyproject.toml).
    script = BLOCKER + "from netspec.launch import main\nmain()\n"
    result = run(script, "--help")
    assert result.returncode == 0, result.stdout + result.stderr
    for command in ("check", "build", "train", "data", "import", "predict", "evaluate", "export"):
        assert f"│ {command} " in result.stdout, command
    checked = run(script, "check", GOOGLENET.relative_to(REPO), "--no-layers")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_front_end_command_runs_without_looking_for_backends() -> None:
    # Discovering backends reads every installed package's metadata: `check` skips it.
    script = textwrap.dedent(
        """
        import json, sys
        from netspec.launch import main
        try:
            main()
        except SystemExit as done:
            code = done.code
        loaded = sorted(m for m in sys.modules if m.startswith("compiler"))
        print(json.dumps({"exit": code, "loaded": loaded}))
        """
    )
    result = run(script, "check", GOOGLENET.relative_to(REPO), "--no-layers")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"exit": 0, "loaded": []}
    train = run(script, "train", "--help")
    assert "compiler.cli" in json.loads(train.stdout.strip().splitlines()[-1])["loaded"]


def test_the_launcher_collects_garbage_while_a_command_runs() -> None:
    # The collector is off only while the CLI loads: `train` and `lsp` run for hours.
    script = textwrap.dedent(
        """
        import gc, json
        import netspec.cli
        from netspec.launch import main
        seen = []
        netspec.cli.main = lambda: seen.append(gc.isenabled())
        main()
        print(json.dumps({"during": seen, "after": gc.isenabled()}))
        """
    )
    result = run(script)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"during": [True], "after": True}


SPACE = REPO / "examples" / "fashion_mnist_space.ns"


def test_sweep_leaves_tensorflow_keras_and_the_backend_unimported() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from netspec.launch import main
        try:
            main()
        except SystemExit as done:
            code = done.code
        loaded = sorted(
            {m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "compiler"}
        )
        print(json.dumps({"exit": code, "loaded": loaded}))
        """
    )
    result = run(script, "sweep", SPACE.relative_to(REPO))
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"exit": 0, "loaded": []}


def test_sweep_train_without_tensorflow_says_how_to_install_it(tmp_path: Path) -> None:
    # The compiler ships with netspec, so its trainer is registered even without TensorFlow.
    script = BLOCKER + "from netspec.launch import main\nmain()\n"
    checked = run(script, "sweep", SPACE.relative_to(REPO))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "3 valid, 3 rejected" in checked.stdout
    result = run(script, "sweep", SPACE.relative_to(REPO), "--train", "--runs", tmp_path / "runs")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pip install 'netspec[cpu]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_backend_commands_without_tensorflow_say_how_to_install_it(tmp_path: Path) -> None:
    # Mounted with netspec whatever its extras: without TensorFlow, a hint, not a traceback.
    script = BLOCKER + "from netspec.launch import main\nmain()\n"
    spec = GOOGLENET.relative_to(REPO)
    for args in (("build", spec, "-o", tmp_path / "m.keras"), ("train", spec, "--verbose")):
        result = run(script, *args)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "needs TensorFlow and Keras" in result.stderr
        assert "pip install 'netspec[cpu]'" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "m.keras").exists()
