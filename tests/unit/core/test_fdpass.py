"""Framed messages with descriptors: each read takes exactly one message, whatever follows it."""

import os
import socket

import pytest

from labcore.linux.fdpass import receive_message, send_message


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    yield ours, theirs
    ours.close()
    theirs.close()


def test_messages_sent_in_a_row_are_received_one_by_one_with_their_descriptors(pair) -> None:
    ours, theirs = pair
    read_end, write_end = os.pipe()
    send_message(ours, b"first")
    send_message(ours, b"second", [write_end])
    send_message(ours, b"")
    os.close(write_end)
    assert receive_message(theirs, max_fds=1, max_size=100) == (b"first", [])
    body, fds = receive_message(theirs, max_fds=1, max_size=100)
    assert body == b"second" and len(fds) == 1
    os.write(fds[0], b"through")  # the same pipe, passed along
    os.close(fds[0])
    assert os.read(read_end, 100) == b"through"
    os.close(read_end)
    assert receive_message(theirs, max_fds=1, max_size=100) == (b"", [])


def test_end_of_file_before_a_message_is_none_and_inside_one_an_error(pair) -> None:
    ours, theirs = pair
    ours.sendall(b"\0\0\0\x09half")
    ours.shutdown(socket.SHUT_WR)
    with pytest.raises(ValueError, match="in the middle of a message"):
        receive_message(theirs, max_fds=0, max_size=100)
    assert receive_message(theirs, max_fds=0, max_size=100) is None


def test_a_message_over_the_limit_is_refused_and_its_descriptors_closed(pair) -> None:
    ours, theirs = pair
    read_end, write_end = os.pipe()
    send_message(ours, b"x" * 200, [write_end])
    os.close(write_end)
    with pytest.raises(ValueError, match="more than 100"):
        receive_message(theirs, max_fds=1, max_size=100)
    assert os.read(read_end, 1) == b""  # no copy of the write end is left open
    os.close(read_end)
