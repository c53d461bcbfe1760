import json

from labcore.container.logfile import LogWriter, read_log


def test_lines_are_split_per_stream_and_partials_kept(tmp_path):
    path = tmp_path / "c.log"
    writer = LogWriter(path)
    writer.write("stdout", b"one\ntw")
    writer.write("stderr", b"err\n")
    writer.write("stdout", b"o\nthree")
    writer.close()
    entries = [(entry.stream, entry.text) for entry in read_log(path)]
    assert entries == [("stdout", "one\n"), ("stderr", "err\n"), ("stdout", "two\n"), ("stdout", "three")]
    first = json.loads(path.read_text().splitlines()[0])
    assert set(first) == {"log", "stream", "time"} and first["time"].endswith("Z")


def test_missing_log_reads_empty(tmp_path):
    assert list(read_log(tmp_path / "none.log")) == []


def test_follow_stops_when_not_running(tmp_path):
    path = tmp_path / "c.log"
    writer = LogWriter(path)
    writer.write("stdout", b"a\n")
    calls = []

    def still_running():
        calls.append(1)
        if len(calls) == 1:
            writer.write("stdout", b"b\n")
            return True
        return False

    assert [entry.text for entry in read_log(path, follow=True, still_running=still_running, poll=0)] == ["a\n", "b\n"]
    writer.close()
