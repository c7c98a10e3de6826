"""The converter from a CSV of segments to annotation files that ingestion reads."""
import json
import shutil

import pytest

from project_parameters import CONF
from vicokd.data.annotations import read_home
from vicokd.data.convert_csv import SegmentsError, convert_segments, main
from vicokd.data.description import DatasetDescription

MINE = DatasetDescription(classes=["Cook", "Sit", "Sleep", "Wave"], views=3, sample_fps=2.5)
FLAT = ";".join(f"Flat/01/00-View{v}-Part1.mp4" for v in range(1, 4))
QUIET = ";".join(f"Flat/02/00-View{v}-Part1.mp4" for v in range(1, 4))
LOFT = ";".join(f"Loft/01/03-View{v}-Part2.mp4" for v in range(1, 4))
ROWS = ["recording,view_files,start,end,label",
        f"cooking,{FLAT},3.0,6.5,Wave",
        f"cooking,{FLAT},0.0,4.2,Cook",
        f"cooking,{FLAT},3.0,6.5,Sit",
        f"quiet,{QUIET},,,",
        f"nap,{LOFT},1.0,9.0,Sleep"]


def write_csv(path, rows):
    path.write_text("\n".join(rows) + "\n")
    return path


def test_segments_become_one_record_per_recording_in_each_home(tmp_path):
    csv = write_csv(tmp_path / "segments.csv", ROWS)
    written = convert_segments(csv, tmp_path / "data", MINE)
    assert written == {"Flat": tmp_path / "data/Flat/all_labels.json",
                       "Loft": tmp_path / "data/Loft/all_labels.json"}
    flat = json.loads(written["Flat"].read_text())
    assert flat == [
        {"video_url_1": "01/00-View1-Part1.mp4", "video_url_2": "01/00-View2-Part1.mp4",
         "video_url_3": "01/00-View3-Part1.mp4",
         "tricks": [{"start": 0.0, "end": 4.2, "labels": ["Cook"]},
                    {"start": 3.0, "end": 6.5, "labels": ["Wave", "Sit"]}]},  # same times
        {"video_url_1": "02/00-View1-Part1.mp4", "video_url_2": "02/00-View2-Part1.mp4",
         "video_url_3": "02/00-View3-Part1.mp4", "tricks": []},
    ]
    annotations = read_home(tmp_path / "data", "Flat", MINE)  # as ingestion reads them
    assert not annotations.problems
    assert [(s.sequence_id, s.labels) for s in annotations.sequences] == [
        ("Flat/01/00-Part1", ("Cook", "Sit", "Wave")), ("Flat/02/00-Part1", ())]
    assert read_home(tmp_path / "data", "Loft", MINE).sequences[0].sequence_id == "Loft/01/03-Part2"


@pytest.mark.parametrize("row, problem", [
    (f"cooking,{FLAT},0.0,1.0,Dance",
     r"recording 'cooking' \(line 2\): .*unknown label\(s\) \['Dance'\]"),
    (f"x,{FLAT.replace('Flat/01', 'Loft/01', 1)},0,1,Cook", "line 2: the view files .* one home"),
    (f"x,{FLAT},soon,1,Cook", "line 2: start 'soon' and end '1' must be seconds"),
    (f"x,{FLAT.rsplit(';', 1)[0]},0,1,Cook", r"recording 'x' \(line 2\): .*has no video_url_3"),
    (f"x,{FLAT},2,1,Cook", "start <= end"),
])
def test_a_bad_row_is_named_and_nothing_is_written(tmp_path, row, problem):
    csv = write_csv(tmp_path / "segments.csv", [ROWS[0], row, ROWS[-1]])
    with pytest.raises(SegmentsError, match=problem):
        convert_segments(csv, tmp_path / "data", MINE)
    assert not (tmp_path / "data").exists()


def test_a_recording_with_other_view_files_on_another_line_is_an_error(tmp_path):
    csv = write_csv(tmp_path / "segments.csv", [*ROWS, f"cooking,{QUIET},1,2,Cook"])
    with pytest.raises(SegmentsError, match="line 7: recording 'cooking' lists other view files "
                                            "than on line 2"):
        convert_segments(csv, tmp_path / "data", MINE)


def test_existing_annotations_are_kept_unless_overwritten(tmp_path):
    csv = write_csv(tmp_path / "segments.csv", ROWS)
    (tmp_path / "data" / "Loft").mkdir(parents=True)
    (tmp_path / "data" / "Loft" / "all_labels.json").write_text("[]")
    with pytest.raises(FileExistsError, match="Loft/all_labels.json already exist"):
        convert_segments(csv, tmp_path / "data", MINE)
    assert (tmp_path / "data" / "Loft" / "all_labels.json").read_text() == "[]"
    assert not (tmp_path / "data" / "Flat").exists()
    convert_segments(csv, tmp_path / "data", MINE, overwrite=True)
    assert len(json.loads((tmp_path / "data" / "Loft" / "all_labels.json").read_text())) == 1


def test_the_command_reads_classes_and_views_from_an_environment(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    shutil.copytree(CONF, project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "conf" / "mine").mkdir()
    (project / "conf" / "mine" / "globals.yml").write_text(
        "classes: [Cook, Sit, Sleep, Wave]\nviews: 3\n")
    shutil.copy(CONF.parent / "pyproject.toml", project)
    csv = write_csv(tmp_path / "segments.csv", ROWS)
    monkeypatch.chdir(project)
    main([str(csv), "data/01_raw/mine", "--env", "mine"])
    assert capsys.readouterr().out.splitlines() == [
        "Flat: data/01_raw/mine/Flat/all_labels.json",
        "Loft: data/01_raw/mine/Loft/all_labels.json"]
    with pytest.raises(SystemExit, match="has no video_url_4"):  # base: MultiSensor-Home's 5 views
        main([str(csv), "data/01_raw/other"])
    assert not (project / "data" / "01_raw" / "other").exists()
