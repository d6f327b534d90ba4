"""The wine-quality loader of the chapter 6 exercise, on CSV files the tests write."""

import pytest
import torch

import ptm
from ptm.wine import WINE_FILE, WINE_URL, WineDataError, default_wine_path

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
    assert default_wine_path() == tmp_path / "p1ch4" / WINE_FILE
    (tmp_path / "p1ch4").mkdir()
    write_csv(tmp_path / "p1ch4" / WINE_FILE)
    assert len(ptm.load_wine().quality) == 3


def test_a_missing_file_names_the_file_the_folder_and_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "p1ch7"))
    with pytest.raises(FileNotFoundError) as caught:
        ptm.load_wine()
    message = str(caught.value)
    assert WINE_FILE in message and str(tmp_path / "p1ch4") in message and WINE_URL in message


def test_wrong_column_count_names_the_line(tmp_path):
    rows = [*ROWS[:1], "7;0.27;0.36", *ROWS[1:]]
    with pytest.raises(WineDataError, match=r"line 3: expected 12 cells, got 3"):
        ptm.load_wine(write_csv(tmp_path / "wine.csv", rows))


def test_a_cell_that_is_not_a_number_names_line_and_column(tmp_path):
    rows = [ROWS[0], ROWS[1].replace("9.5", "nine"), ROWS[2]]
    with pytest.raises(
        WineDataError, match=r"line 3, column 11 \(alcohol\): 'nine' is not a number"
    ):
        ptm.load_wine(write_csv(tmp_path / "wine.csv", rows))


def test_a_comma_separated_file_is_refused_with_the_reason(tmp_path):
    path = write_csv(tmp_path / "wine.csv", [row.replace(";", ",") for row in ROWS],
                     HEADER.replace(";", ","))  # fmt: skip
    with pytest.raises(WineDataError, match="expected 12 semicolon-separated columns, got 1"):
        ptm.load_wine(path)
