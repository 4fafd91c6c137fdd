"""The command line end to end on real files: each case of issue 17's "Found" list.

Every refused run must leave the input's bytes as they were and no new file behind.
"""

import io
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from sklearn_em.__main__ import FitProgress, main
from sklearn_em._cli_parser import build_parser
from sklearn_em._output import write_outputs

CLUSTER = ["cluster", "--k", "1-4", "--tol", "1e-2"]
IMPUTE = ["impute", "--tol", "1e-2"]


def _clusters(n=60, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    return centers[np.arange(n) % 3] + rng.normal(size=(n, 2))


def _csv(X, header="x,y", sep=",", newline="\n", gaps=()):
    lines = [header] if header is not None else []
    for i, row in enumerate(X):
        lines.append(sep.join("" if (i, j) in gaps else f"{v:.4f}" for j, v in enumerate(row)))
    return (newline.join(lines) + newline).encode()


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(_csv(_clusters(), gaps={(0, 1), (5, 0)}))
    return path


def _refused(capsys, argv, tmp_path, data, message):
    """Run argv; it must fail with exit 2 before reading, leaving only the input as it was."""
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, last
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    return err


@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
@pytest.mark.parametrize("output", ["in.csv", "sub/../in.csv", "./in.csv", "link.csv"])
def test_the_input_is_never_an_output(tmp_path, capsys, data, command, output):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(data)
    err = _refused(
        capsys, [*command, data, "-o", tmp_path / output], tmp_path, data, "is the input file"
    )
    assert "reading" not in err  # refused before any work


def test_multiple_imputation_never_overwrites_the_input(tmp_path, capsys):
    data = tmp_path / "t_1.csv"
    data.write_bytes(_csv(_clusters(), gaps={(0, 1)}))
    _refused(
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
    err = _refused(capsys, [*command, data, "-o", tmp_path / output], tmp_path, data, message)
    assert "reading" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any directory")
def test_a_directory_without_write_permission_is_refused(tmp_path, capsys, data):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    _refused(capsys, [*CLUSTER, data, "-o", locked / "o.csv"], tmp_path, data, "cannot write")


def test_plot_and_labels_are_refused_together(tmp_path, capsys, data):
    (tmp_path / "adir").mkdir()
    argv = [*CLUSTER, data, "-o", tmp_path / "labels.csv", "--plot", tmp_path / "adir"]
    _refused(capsys, argv, tmp_path, data, "is a directory")
    argv = [*CLUSTER, data, "-o", tmp_path / "same.png", "--plot", tmp_path / "same.png"]
    _refused(capsys, argv, tmp_path, data, "named for two outputs")


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
    _refused(
        capsys,
        ["cluster", data, "--k", "1-61", "-o", tmp_path / "o.csv"],
        tmp_path,
        data,
        "has 60 rows",
    )


@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
def test_a_200000_character_field_is_one_line(tmp_path, capsys, command):
    data = tmp_path / "in.csv"
    data.write_bytes(b"x,y\n1,2\n3," + b"7" * 200_000 + b"\n")
    err = _refused(
        capsys, [*command, data, "-o", tmp_path / "o.csv"], tmp_path, data, "not numeric"
    )
    assert len(err.strip().splitlines()[-1]) < 400


@pytest.mark.parametrize(
    "content, line, cells",
    [
        (b"x,y\n1,2\n3\n4,5\n", 3, 1),
        (b"x,y\n1,2\n\n3,4,5\n", 4, 3),
        (b'x,y\n1,2\n"3",4,5\n', 3, 3),
    ],
)
def test_rows_with_the_wrong_cell_count_are_refused_by_line(
    tmp_path, capsys, content, line, cells
):
    data = tmp_path / "in.csv"
    data.write_bytes(content)
    _refused(
        capsys,
        [*IMPUTE, data, "-o", tmp_path / "o.csv"],
        tmp_path,
        data,
        f"line {line}: {cells} cells where the first row has 2",
    )


def test_a_file_without_header(tmp_path, capsys):
    data = tmp_path / "in.csv"
    data.write_bytes(_csv(_clusters(), header=None))
    out = tmp_path / "labels.csv"
    assert main([*CLUSTER, str(data), "-o", str(out)]) == 0
    assert "looks like numbers" in capsys.readouterr().err  # 59 rows, and a warning
    assert main([*CLUSTER, str(data), "--no-header", "-o", str(out)]) == 0
    labels = out.read_text().splitlines()
    assert labels[0] == "label" and len(labels) == 1 + 60
    truth = np.arange(60) % 3
    assert adjusted_rand_score(truth, [int(v) for v in labels[1:]]) > 0.9


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_separators_are_found_or_given(tmp_path, sep):
    data = tmp_path / "in.csv"
    data.write_bytes(_csv(_clusters(), header=f"x{sep}y", sep=sep, gaps={(3, 1)}))
    for given in [[], ["--sep", sep]]:
        assert main([*IMPUTE, str(data), *given, "-o", str(tmp_path / "o.csv")]) == 0
        lines = (tmp_path / "o.csv").read_text().splitlines()
        assert lines[0] == f"x{sep}y" and np.isfinite(float(lines[4].split(sep)[1]))


def test_encodings_bom_and_line_endings(tmp_path, capsys):
    body = _csv(_clusters(), header="größe,y", newline="\r\n", gaps={(2, 0)}).decode()
    latin = tmp_path / "latin.csv"
    latin.write_bytes(body.encode("latin-1"))
    out = tmp_path / "o.csv"
    assert main([*IMPUTE, str(latin), "-o", str(out)]) == 0
    assert "not UTF-8 (line 1); read as cp1252" in capsys.readouterr().err
    written = out.read_bytes()
    assert written.startswith("größe,y\r\n".encode("latin-1"))
    assert written.count(b"\r\n") == 61 and written.count(b"\n") == 61  # CRLF kept
    _refused(
        capsys,
        [*IMPUTE, latin, "--encoding", "utf-8", "-o", tmp_path / "p.csv"],
        tmp_path,
        latin,
        "line 1: not valid utf-8",
    )
    assert main([*IMPUTE, str(latin), "--encoding", "latin-1", "-o", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err

    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + body.replace("\r\n", "\n").encode())
    assert main([*CLUSTER, str(bom), "--id-column", "größe", "-o", str(out)]) == 0
    assert (
        main([*CLUSTER, str(bom), "--encoding", "UTF8", "--id-column", "größe", "-o", str(out)])
        == 0
    )
    labels = out.read_bytes()
    # the name is read without its BOM; the output keeps the input's BOM and LF endings
    assert labels.startswith(b"\xef\xbb\xbf" + "größe,label\n".encode()) and b"\r" not in labels


def test_missing_value_markers_follow_pandas(tmp_path, capsys):
    data = tmp_path / "in.csv"
    lines = _csv(_clusters()).decode().splitlines()
    lines[1] = "N/A," + lines[1].split(",")[1]
    lines[2] = lines[2].split(",")[0] + ",NA"
    data.write_text("\n".join(lines) + "\n")
    assert main([*IMPUTE, str(data), "-o", str(tmp_path / "o.csv")]) == 0
    filled = (tmp_path / "o.csv").read_text().splitlines()
    assert np.isfinite(float(filled[1].split(",")[0])) and np.isfinite(
        float(filled[2].split(",")[1])
    )
    lines[3] = "?," + lines[3].split(",")[1]
    data.write_text("\n".join(lines) + "\n")
    _refused(
        capsys,
        [*IMPUTE, data, "-o", tmp_path / "p.csv"],
        tmp_path,
        data,
        "line 4: column 'x' is not numeric ('?')",
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


def test_id_column_columns_and_drop(tmp_path, capsys):
    X = _clusters()
    rows = [f"id{i:03d},{a:.4f},zz,{b:.4f}" for i, (a, b) in enumerate(X)]
    data = tmp_path / "in.csv"
    data.write_text("name,x,kind,y\n" + "\n".join(rows) + "\n")
    out = tmp_path / "o.csv"
    err = _refused(capsys, [*CLUSTER, data, "-o", out], tmp_path, data, "column 'name' is not")
    assert "--id-column" in err and "--drop" in err
    assert (
        main([*CLUSTER, str(data), "--id-column", "name", "--drop", "kind", "-o", str(out)]) == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "name,label" and lines[1].startswith("id000,")
    labels = [int(line.split(",")[1]) for line in lines[1:]]
    assert adjusted_rand_score(np.arange(60) % 3, labels) > 0.9
    assert main([*IMPUTE, str(data), "--columns", "x,y", "-o", str(out)]) == 0
    assert out.read_text() == data.read_text()  # nothing missing: every byte as it was
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(data.read_text().replace("name,", "label,", 1))
    _refused(
        capsys,
        [*CLUSTER, renamed, "--id-column", "label", "--drop", "kind", "-o", out],
        tmp_path,
        renamed,
        "has the name of an output column",
    )
    _refused(
        capsys,
        [*CLUSTER, data, "--columns", "x,nope", "-o", out],
        tmp_path,
        data,
        "no column named 'nope'",
    )


def test_fit_options_reach_the_estimators_and_warnings(tmp_path, capsys, data):
    out = tmp_path / "o.csv"
    assert (
        main(
            [
                "cluster",
                str(data),
                "--k",
                "1-2",
                "--max-iter",
                "1",
                "--n-init",
                "2",
                "--covariance-type",
                "diag",
                "--standardize",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "did not converge" in err
    assert "the best k is the largest tried (2)" in err
    assert (
        main(
            [
                *IMPUTE,
                str(data),
                "--n-components",
                "2",
                "--covariance-type",
                "tied",
                "--max-iter",
                "1",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "warning: " in err and "converge" in err and "Traceback" not in err
    assert "/" not in err.split("warning: ")[1].splitlines()[0]  # no source path


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
    data.write_bytes(_csv(np.random.default_rng(0).normal(size=(3000, 4)), header="a,b,c,d"))
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
    )
    for line in process.stderr:
        if line.startswith("read "):
            break
    process.send_signal(signal.SIGINT)
    err = process.stderr.read()
    assert process.wait(timeout=60) == 130
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


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_are_skipped_and_written_back(tmp_path, newline):
    rows = ["", "a", "1.5", "", "", "2.25", "   ", "4.0", "3.0", "1.0", "5.5", "2.5", "", ""]
    data = tmp_path / "in.csv"
    data.write_bytes(newline.join(rows).encode() + newline.encode())
    out = tmp_path / "o.csv"
    assert main([*IMPUTE, str(data), "-o", str(out)]) == 0
    assert out.read_bytes() == data.read_bytes()  # one column, nothing missing: as it was
    assert main([*CLUSTER, "--k", "1-2", str(data), "-o", str(out)]) == 0
    assert len(out.read_bytes().splitlines()) == 1 + 7  # a label for each of 7 rows


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


def test_quoted_fields_and_utf16_go_through_the_csv_module(tmp_path, capsys):
    data = tmp_path / "q.csv"
    rows = [
        f'"id {i}, x",{a:.4f},{"" if i == 3 else f"{b:.4f}"}'
        for i, (a, b) in enumerate(_clusters())
    ]
    data.write_text('name,"x",y\n' + "\n".join(rows) + "\n")
    out = tmp_path / "o.csv"
    assert main([*IMPUTE, str(data), "--id-column", "name", "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert (
        lines[1] == rows[0]
        and lines[4].startswith('"id 3, x",')
        and np.isfinite(float(lines[4].split(",")[-1]))
    )
    bad = tmp_path / "bad.csv"
    bad.write_text('name,"x",y\n' + rows[0] + '\n"a",1\n')
    _refused(capsys, [*IMPUTE, bad, "-o", out], tmp_path, bad, "line 3: 2 cells")

    wide = tmp_path / "u16.csv"
    wide.write_bytes(
        _csv(_clusters(), header="x;y", sep=";", newline="\r\n", gaps={(1, 1)})
        .decode()
        .encode("utf-16")
    )
    assert main([*IMPUTE, str(wide), "-o", str(out)]) == 0
    text = out.read_bytes().decode("utf-16")
    assert text.startswith("x;y\r\n") and text.count("\r\n") == 61
    assert np.isfinite(float(text.split("\r\n")[2].split(";")[1]))


def test_the_default_k_range_stops_at_the_number_of_rows(tmp_path, capsys):
    data = tmp_path / "in.csv"
    data.write_text("x\n1\n2\n5\n")
    assert main(["cluster", str(data), "-o", str(tmp_path / "o.csv")]) == 0
    captured = capsys.readouterr()
    assert [line.split()[0] for line in captured.out.splitlines()[1:]] == ["1", "2", "3"]
    best = next(line.split()[0] for line in captured.out.splitlines() if "<- best" in line)
    assert ("one component per row" in captured.err) == (best == "3")


def test_prior_reaches_the_imputer(tmp_path, data):
    from sklearn_em import EMImputer

    mle, map_ = tmp_path / "mle.csv", tmp_path / "map.csv"
    common = ["impute", str(data), "--n-components", "2", "--covariance-type", "full"]
    assert main([*common, "-o", str(mle)]) == 0
    assert main([*common, "--prior", "conjugate", "-o", str(map_)]) == 0
    assert mle.read_bytes() != map_.read_bytes()
    X = np.genfromtxt(data, delimiter=",", skip_header=1)  # the gaps read as NaN
    imputer = EMImputer(2, covariance_type="full", prior="conjugate", tol=1e-3, random_state=0)
    expected = imputer.fit_transform(X)
    written = np.loadtxt(map_, delimiter=",", skiprows=1)
    np.testing.assert_allclose(written[[0, 5], [1, 0]], expected[[0, 5], [1, 0]], rtol=1e-9)
