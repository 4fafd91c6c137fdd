"""The command line reading real files: separators, encodings, markers, columns
and bad rows (the reading cases of issue 17's "Found" list).

Every refused run must leave the input's bytes as they were and no new file behind.
"""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from sklearn_em.__main__ import main

from .helpers import CLUSTER, IMPUTE, assert_refused, cli_clusters, csv_bytes, write_cli_input


@pytest.fixture
def data(tmp_path):
    return write_cli_input(tmp_path)


@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
def test_a_200000_character_field_is_one_line(tmp_path, capsys, command):
    data = tmp_path / "in.csv"
    data.write_bytes(b"x,y\n1,2\n3," + b"7" * 200_000 + b"\n")
    err = assert_refused(
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
    assert_refused(
        capsys,
        [*IMPUTE, data, "-o", tmp_path / "o.csv"],
        tmp_path,
        data,
        f"line {line}: {cells} cells where the first row has 2",
    )


def test_a_file_without_header(tmp_path, capsys):
    data = tmp_path / "in.csv"
    data.write_bytes(csv_bytes(cli_clusters(), header=None))
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
    data.write_bytes(csv_bytes(cli_clusters(), header=f"x{sep}y", sep=sep, gaps={(3, 1)}))
    for given in [[], ["--sep", sep]]:
        assert main([*IMPUTE, str(data), *given, "-o", str(tmp_path / "o.csv")]) == 0
        lines = (tmp_path / "o.csv").read_text().splitlines()
        assert lines[0] == f"x{sep}y" and np.isfinite(float(lines[4].split(sep)[1]))


def test_encodings_bom_and_line_endings(tmp_path, capsys):
    body = csv_bytes(cli_clusters(), header="größe,y", newline="\r\n", gaps={(2, 0)}).decode()
    latin = tmp_path / "latin.csv"
    latin.write_bytes(body.encode("latin-1"))
    out = tmp_path / "o.csv"
    assert main([*IMPUTE, str(latin), "-o", str(out)]) == 0
    assert "not UTF-8 (line 1); read as cp1252" in capsys.readouterr().err
    written = out.read_bytes()
    assert written.startswith("größe,y\r\n".encode("latin-1"))
    assert written.count(b"\r\n") == 61 and written.count(b"\n") == 61  # CRLF kept
    assert_refused(
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
    lines = csv_bytes(cli_clusters()).decode().splitlines()
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
    assert_refused(
        capsys,
        [*IMPUTE, data, "-o", tmp_path / "p.csv"],
        tmp_path,
        data,
        "line 4: column 'x' is not numeric ('?')",
    )


def test_id_column_columns_and_drop(tmp_path, capsys):
    X = cli_clusters()
    rows = [f"id{i:03d},{a:.4f},zz,{b:.4f}" for i, (a, b) in enumerate(X)]
    data = tmp_path / "in.csv"
    data.write_text("name,x,kind,y\n" + "\n".join(rows) + "\n")
    out = tmp_path / "o.csv"
    err = assert_refused(
        capsys, [*CLUSTER, data, "-o", out], tmp_path, data, "column 'name' is not"
    )
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
    assert_refused(
        capsys,
        [*CLUSTER, renamed, "--id-column", "label", "--drop", "kind", "-o", out],
        tmp_path,
        renamed,
        "has the name of an output column",
    )
    assert_refused(
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


def test_quoted_fields_and_utf16_go_through_the_csv_module(tmp_path, capsys):
    data = tmp_path / "q.csv"
    rows = [
        f'"id {i}, x",{a:.4f},{"" if i == 3 else f"{b:.4f}"}'
        for i, (a, b) in enumerate(cli_clusters())
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
    assert_refused(capsys, [*IMPUTE, bad, "-o", out], tmp_path, bad, "line 3: 2 cells")

    wide = tmp_path / "u16.csv"
    wide.write_bytes(
        csv_bytes(cli_clusters(), header="x;y", sep=";", newline="\r\n", gaps={(1, 1)})
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


def test_a_column_name_with_a_comma_is_quoted_as_in_csv(tmp_path, capsys):
    data = tmp_path / "cm.csv"
    data.write_text('"height, cm",weight,shoe\n180,80,44\n170,,42\n160,60,39\n175,70,43\n')
    out = tmp_path / "o.csv"
    argv = [*IMPUTE, data, "--drop", "height, cm", "-o", out]
    err = assert_refused(capsys, argv, tmp_path, data, "no column named 'height'")
    assert "the columns are 'height, cm', 'weight', 'shoe'" in err
    assert main([*IMPUTE, str(data), "--drop", '"height, cm"', "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[2].startswith("170,") and lines[2].split(",")[1] != ""
    assert main([*IMPUTE, str(data), "--columns", '"height, cm",weight', "-o", str(out)]) == 0


@pytest.mark.parametrize("command", [CLUSTER, IMPUTE])
def test_one_data_row_is_refused_by_name(tmp_path, capsys, command):
    data = tmp_path / "one.csv"
    data.write_text("x,y\n1,2\n")
    argv = [*command, data, "-o", tmp_path / "o.csv"]
    assert_refused(capsys, argv, tmp_path, data, "one.csv has 1 data row(s); a mixture needs")


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


def test_a_chosen_model_on_collapsed_components_gets_advice_not_a_wider_range(tmp_path, capsys):
    data = tmp_path / "noise.csv"
    rows = np.random.default_rng(5).normal(size=(40, 3))
    data.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows))
    assert main(["cluster", str(data), "-o", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert "on fewer than the 4 rows a covariance needs" in err
    assert "--prior conjugate keeps every component's covariance proper" in err
    assert "Try a wider range" not in err
