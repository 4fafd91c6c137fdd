"""The command line's outputs and refusals end to end: the input never overwritten,
outputs checked before any work and written whole or not at all, usage errors,
Ctrl-C, standard streams and progress (the output cases of issue 17's "Found" list).

Every refused run must leave the input's bytes as they were and no new file behind.
"""

import io
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from sklearn_em.__main__ import FitProgress, main
from sklearn_em._cli_parser import build_parser
from sklearn_em._output import write_outputs

from .helpers import CLUSTER, IMPUTE, assert_refused, cli_clusters, csv_bytes, write_cli_input


@pytest.fixture
def data(tmp_path):
    return write_cli_input(tmp_path)


@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
@pytest.mark.parametrize("output", ["in.csv", "sub/../in.csv", "./in.csv", "link.csv"])
def test_the_input_is_never_an_output(tmp_path, capsys, data, command, output):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(data)
    err = assert_refused(
        capsys, [*command, data, "-o", tmp_path / output], tmp_path, data, "is the input file"
    )
    assert "reading" not in err  # refused before any work


def test_multiple_imputation_never_overwrites_the_input(tmp_path, capsys):
    data = tmp_path / "t_1.csv"
    data.write_bytes(csv_bytes(cli_clusters(), gaps={(0, 1)}))
    assert_refused(
        capsys,
        [*IMPUTE, data, "--multiple", "2", "-o", tmp_path / "t.csv"],
        tmp_path,
        data,
        "is the input file",
    )


@pytest.mark.parametrize(
    "output, message",
    [
        ("missing/out.csv", "does not exist"),
        ("adir", "is a directory"),
        ("afile/out.csv", "is not a directory"),
    ],
)
@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
def test_unwritable_outputs_are_refused_before_any_work(
    tmp_path, capsys, data, command, output, message
):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    err = assert_refused(
        capsys, [*command, data, "-o", tmp_path / output], tmp_path, data, message
    )
    assert "reading" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any directory")
def test_a_directory_without_write_permission_is_refused(tmp_path, capsys, data):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_refused(
        capsys, [*CLUSTER, data, "-o", locked / "o.csv"], tmp_path, data, "cannot write"
    )


def test_plot_and_labels_are_refused_together(tmp_path, capsys, data):
    (tmp_path / "adir").mkdir()
    argv = [*CLUSTER, data, "-o", tmp_path / "labels.csv", "--plot", tmp_path / "adir"]
    assert_refused(capsys, argv, tmp_path, data, "is a directory")
    argv = [*CLUSTER, data, "-o", tmp_path / "same.png", "--plot", tmp_path / "same.png"]
    assert_refused(capsys, argv, tmp_path, data, "named for two outputs")


def test_the_plot_takes_its_format_from_its_name(tmp_path, capsys, data):
    pytest.importorskip("matplotlib")
    for name in ("bic.pdf", "bic.PNG", "bic.svg"):
        argv = [*CLUSTER, data, "--k", "1-2", "-o", tmp_path / "l.csv", "--plot", tmp_path / name]
        assert main([str(arg) for arg in argv]) == 0
    assert (tmp_path / "bic.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "bic.PNG").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "bic.svg").read_bytes()[:1000]
    capsys.readouterr()
    for name in ("bic.txt", "bic"):
        argv = [*CLUSTER, data, "-o", tmp_path / "o.csv", "--plot", tmp_path / name]
        assert_refused(capsys, argv, tmp_path, data, "end it in .png, .pdf, .svg")
    argv = [*CLUSTER, data, "-o", tmp_path / "o.csv", "--plot", "-"]
    assert_refused(capsys, argv, tmp_path, data, "--plot cannot write to standard output")


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    def fail(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_outputs({tmp_path / "a.csv": lambda f: f.write(b"whole"), tmp_path / "b.png": fail})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--k", "1-100000000000"], "at most 1000 components"),
        (["--k", "0"], "1 <= LOW"),
        (["--k", "a-b"], "K or LOW-HIGH"),
        (["--tol", "-1"], "number >= 0"),
        (["--max-iter", "x"], "positive integer"),
        (["--drop", "a\nb"], "is not a list of names (a line break outside quotes)"),
        (["--columns", '"x'], "is not a list of names (unexpected end of data)"),
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path, capsys, data, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(["cluster", str(data), "-o", str(tmp_path / "o.csv"), *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [data]


def test_more_components_than_rows_is_refused(tmp_path, capsys, data):
    assert_refused(
        capsys,
        ["cluster", data, "--k", "1-61", "-o", tmp_path / "o.csv"],
        tmp_path,
        data,
        "has 60 rows",
    )


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_get_the_umask_mode(tmp_path, data, umask):
    previous = os.umask(umask)
    try:
        assert main([*CLUSTER, str(data), "-o", str(tmp_path / "o.csv")]) == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "o.csv"]


def test_help_has_text_for_every_option_and_no_rest_markup():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
        text = sub.format_help()
        assert "``" not in text
        if name != "demo":
            assert "examples:" in text
    assert "``" not in parser.format_help()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip().startswith("sklearn-em 0.")


@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
def test_stdin_to_stdout(data, capsysbinary, monkeypatch, command):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.read_bytes())))
    assert main([*command, "-", "-o", "-"]) == 0
    captured = capsysbinary.readouterr()
    lines = captured.out.decode().splitlines()
    assert len(lines) == 61 and lines[0] == ("label" if command is CLUSTER else "x,y")
    if command is CLUSTER:
        assert b"<- best" in captured.err  # the criterion table goes to stderr instead


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(tmp_path):
    data = tmp_path / "in.csv"
    data.write_bytes(csv_bytes(np.random.default_rng(0).normal(size=(3000, 4)), header="a,b,c,d"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sklearn_em",
            "cluster",
            str(data),
            "--k",
            "1-200",
            "--tol",
            "0",
            "--max-iter",
            "1000",
            "--plot",
            str(tmp_path / "p.png"),
            "-o",
            str(tmp_path / "o.csv"),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        # A shell starts background jobs with SIGINT ignored, and a child
        # inherits that (Python then installs no KeyboardInterrupt): restore
        # what a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in process.stderr:
        if line.startswith("read "):
            break
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert err.strip().splitlines()[-1].startswith("interrupted") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [data]


def test_without_pandas_the_cli_says_how_to_install_it_and_demo_still_runs(data, tmp_path):
    # an import hook that refuses pandas, as if it were not installed
    block = (
        "import sys\n"
        "class NoPandas:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pandas':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoPandas())\n"
        "from sklearn_em.__main__ import main\n"
    )
    code = block + (
        "assert main(['demo']) == 0\nsys.exit(main(['cluster', sys.argv[1], '-o', sys.argv[2]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(data), str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
    )
    assert "scikit-learn" in result.stdout  # the demo ran
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        'error: the command line needs pandas: pip install "sklearn-em[cli]"'
    )


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    lines = ["k=1 full: bic 3.0", "k=2 full: bic 2.0", "k=3 full: bic 2.5", "k=4 full: bic 4.0"]
    for stream, expect_bar in [(_Terminal(), True), (io.StringIO(), False)]:
        progress = FitProgress(stream, n_fits=4)
        for line in lines:
            progress.write(line[:5])  # lines arrive in pieces
            progress.write(line[5:] + "\n")
        progress.finish()
        shown = stream.getvalue()
        if expect_bar:
            assert "\n" not in shown[:-1] and shown.count("\r") == 4
            assert "[##########..........] 2/4 fits" in shown
            assert "[####################] 4/4 fits" in shown
        else:
            assert shown == "\n".join(lines) + "\n"
