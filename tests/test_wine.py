"""The wine-quality loader of the chapter 6 exercise, on CSV files the tests write."""

import pytest
import torch

import ptm
from ptm.wine import WINE_FILE, WINE_URL, WineDataError, wine_paths

HEADER = (
    '"fixed acidity";"volatile acidity";"citric acid";"residual sugar";"chlorides";'
    '"free sulfur dioxide";"total sulfur dioxide";"density";"pH";"sulphates";"alcohol";"quality"'
)
ROWS = [
    "7;0.27;0.36;20.7;0.045;45;170;1.001;3;0.45;8.8;6",
    "6.3;0.3;0.34;1.6;0.049;14;132;0.994;3.3;0.49;9.5;6",
    "8.1;0.28;0.4;6.9;0.05;30;97;0.9951;3.26;0.44;10.1;5",
]


def write_csv(path, rows=ROWS, header=HEADER):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_reads_features_and_quality(tmp_path):
    wine = ptm.load_wine(write_csv(tmp_path / WINE_FILE))
    assert wine.features.shape == (3, 11) and wine.quality.shape == (3, 1)
    assert wine.features.dtype == torch.float32
    assert wine.quality.flatten().tolist() == [6.0, 6.0, 5.0]
    assert wine.features[2, 10].item() == pytest.approx(10.1)
    assert wine.feature_names[0] == "fixed acidity" and wine.feature_names[-1] == "alcohol"
    assert repr(wine) == "Wine(3 wines, 11 features)"


def test_looks_in_p1ch4_beside_the_chapter_7_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "p1ch7"))
    book, flat = tmp_path / "p1ch4" / "tabular-wine" / WINE_FILE, tmp_path / "p1ch4" / WINE_FILE
    assert wine_paths() == [book, flat]
    (tmp_path / "p1ch4").mkdir()
    write_csv(flat)
    assert len(ptm.load_wine().quality) == 3


def test_finds_the_file_where_the_books_data_folder_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "p1ch7"))
    (tmp_path / "p1ch4" / "tabular-wine").mkdir(parents=True)
    write_csv(tmp_path / "p1ch4" / "tabular-wine" / WINE_FILE, ROWS[:2])
    assert len(ptm.load_wine().quality) == 2


def test_a_missing_file_names_both_places_and_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "p1ch7"))
    with pytest.raises(FileNotFoundError) as caught:
        ptm.load_wine()
    message = str(caught.value)
    assert str(tmp_path / "p1ch4" / "tabular-wine" / WINE_FILE) in message
    assert str(tmp_path / "p1ch4" / WINE_FILE) in message and WINE_URL in message


def test_a_folder_is_read_through_the_file_inside_it(tmp_path):
    write_csv(tmp_path / WINE_FILE)
    assert len(ptm.load_wine(tmp_path).quality) == 3
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "empty" / WINE_FILE)):
        (tmp_path / "empty").mkdir()
        ptm.load_wine(tmp_path / "empty")


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf"])
def test_a_cell_that_is_not_finite_names_line_and_column(tmp_path, cell):
    rows = [ROWS[0], ROWS[1], ROWS[2].replace("0.9951", cell)]
    with pytest.raises(WineDataError, match=rf"line 4, column 8 \(density\): '{cell}' is not a"):
        ptm.load_wine(write_csv(tmp_path / "wine.csv", rows))


def test_a_file_that_is_not_utf8_names_the_line_and_the_fix(tmp_path):
    path = tmp_path / "wine.csv"
    path.write_bytes(
        ("\n".join([HEADER, *ROWS]) + "\n").encode("utf-8") + "é;1\n".encode("latin-1")
    )
    with pytest.raises(WineDataError, match=r"line 5: not UTF-8 text .*iconv"):
        ptm.load_wine(path)


def test_wrong_column_count_names_the_line(tmp_path):
    rows = [*ROWS[:1], "7;0.27;0.36", *ROWS[1:]]
    with pytest.raises(WineDataError, match=r"line 3: expected 12 cells, got 3"):
        ptm.load_wine(write_csv(tmp_path / "wine.csv", rows))


def test_a_cell_that_is_not_a_number_names_line_and_column(tmp_path):
    rows = [ROWS[0], ROWS[1].replace("9.5", "nine"), ROWS[2]]
    with pytest.raises(
        WineDataError, match=r"line 3, column 11 \(alcohol\): 'nine' is not a finite number"
    ):
        ptm.load_wine(write_csv(tmp_path / "wine.csv", rows))


def test_a_comma_separated_file_is_refused_with_the_reason(tmp_path):
    path = write_csv(tmp_path / "wine.csv", [row.replace(";", ",") for row in ROWS],
                     HEADER.replace(";", ","))  # fmt: skip
    with pytest.raises(WineDataError, match="expected 12 semicolon-separated columns, got 1"):
        ptm.load_wine(path)
