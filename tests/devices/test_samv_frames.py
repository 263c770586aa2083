"""GA 467 framing: known frames, statuses, the incremental decoder, and what hostile bytes do to it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.identity.reader import CardUnreadable, NoCard, ProtocolError, ReaderUnavailable
from devices.identity.samv.frames import (
    ERROR_STATUSES,
    MAX_BUFFER,
    MIN_REQUEST_LENGTH,
    PREAMBLE,
    Command,
    FrameDecoder,
    FrameError,
    Status,
    encode_card_data,
    encode_request,
    encode_response,
    encode_sam_id,
    format_sam_id,
    parse_card_data,
    parse_request,
    parse_response,
    set_max_rf_bytes_request,
    status_error,
)

# Frames as they appear in vendor documentation and integrations.
KNOWN_REQUESTS = {
    Command.RESET: "aaaaaa9669000310ffec",
    Command.STATUS: "aaaaaa9669000311ffed",
    Command.SAM_ID: "aaaaaa9669000312ffee",
    Command.FIND_CARD: "aaaaaa966900032001 22",
    Command.SELECT_CARD: "aaaaaa966900032002 21",
    Command.READ_TEXT_PHOTO: "aaaaaa966900033001 32",
    Command.READ_LATEST_ADDRESS: "aaaaaa966900033003 30",
    Command.READ_TEXT_PHOTO_FINGERPRINT: "aaaaaa966900033010 23",
}


@pytest.mark.parametrize("command", list(KNOWN_REQUESTS))
def test_requests_match_known_frames(command: Command) -> None:
    assert encode_request(command) == bytes.fromhex(KNOWN_REQUESTS[command])


def test_set_max_rf_bytes_frame() -> None:
    assert set_max_rf_bytes_request() == bytes.fromhex("aaaaaa9669000461ff50ca")


def test_known_responses() -> None:
    assert encode_response(Status.OK) == bytes.fromhex("aaaaaa96690004000090 94")
    assert encode_response(Status.FIND_OK, bytes(4)) == bytes.fromhex("aaaaaa966900080000 9f00000000 97")
    read = encode_response(Status.OK, encode_card_data(bytes(256), bytes(1024)))
    assert read[5:7] == b"\x05\x08"  # LEN 0x0508 as in the specification
    assert len(read) == 1295


@pytest.mark.parametrize("command", list(Command))
def test_every_request_round_trips(command: Command) -> None:
    data = b"\x50" if command is Command.SET_MAX_RF_BYTES else b""
    decoder = FrameDecoder(min_length=MIN_REQUEST_LENGTH)
    decoder.feed(encode_request(command, data))
    body = decoder.next_frame()
    assert body is not None
    request = parse_request(body)
    assert (request.command, request.data) == (command, data)
    assert decoder.pending == 0


def test_decoder_takes_bytes_one_at_a_time_and_skips_garbage() -> None:
    frames = [encode_response(Status.FIND_OK, bytes(4)), encode_response(Status.OK, bytes(8))]
    stream = b"\x00\xaa\xaa\x96" + frames[0] + b"\xaa\xaa\xaa\x96\x00\x69" + frames[1]
    decoder = FrameDecoder()
    bodies = []
    for byte in stream:
        decoder.feed(bytes((byte,)))
        if (body := decoder.next_frame()) is not None:
            bodies.append(parse_response(body))
    assert [(b.sw3, len(b.data)) for b in bodies] == [(Status.FIND_OK, 4), (Status.OK, 8)]
    assert decoder.discarded == 10


def test_two_frames_in_one_chunk() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_response(Status.OK) + encode_response(Status.FIND_FAILED))
    first, second = decoder.next_frame(), decoder.next_frame()
    assert first is not None and second is not None
    assert (parse_response(first).sw3, parse_response(second).sw3) == (Status.OK, Status.FIND_FAILED)
    assert decoder.next_frame() is None


@pytest.mark.parametrize("length", [0, 1, 3, 4097, 0xFFFF])
def test_impossible_length_is_a_protocol_error_then_resync(length: int) -> None:
    good = encode_response(Status.OK, b"\x01\x02")
    decoder = FrameDecoder()
    decoder.feed(PREAMBLE + length.to_bytes(2, "big") + b"\x00\x00" + good)
    with pytest.raises(FrameError) as caught:
        decoder.next_frame()
    assert caught.value.reason == "length"
    assert isinstance(caught.value, ProtocolError)
    assert decoder.next_frame() == b"\x00\x00\x90\x01\x02"


def test_bad_checksum_then_resync() -> None:
    good = encode_response(Status.OK)
    bad = good[:-1] + bytes((good[-1] ^ 0x01,))
    decoder = FrameDecoder()
    decoder.feed(bad + good)
    with pytest.raises(FrameError, match="读卡器传来的数据有误"):
        decoder.next_frame()
    assert decoder.next_frame() == b"\x00\x00\x90"


def test_half_frame_followed_by_a_whole_one() -> None:
    # The half frame's LEN claims the next frame's bytes; the checksum then fails and the decoder rescans.
    whole = encode_response(Status.OK, bytes(range(40)))
    decoder = FrameDecoder()
    decoder.feed(whole[:20] + whole)
    bodies = []
    for _ in range(10):
        try:
            body = decoder.next_frame()
        except ProtocolError:
            continue
        if body is None:
            break
        bodies.append(body)
    assert bodies == [whole[7:-1]]


def test_bytes_wanted_is_exact() -> None:
    frame = encode_response(Status.OK, bytes(100))
    decoder = FrameDecoder()
    assert decoder.bytes_wanted() == 7
    decoder.feed(frame[:3])
    assert decoder.bytes_wanted() == 4
    decoder.feed(frame[3:10])
    assert decoder.bytes_wanted() == len(frame) - 10
    decoder.feed(frame[10:])
    assert decoder.next_frame() is not None


def test_buffer_stays_bounded() -> None:
    decoder = FrameDecoder()
    decoder.feed(bytes(1_000_000))
    assert decoder.pending == 0
    decoder.feed(b"\x01" * 1000 + b"\xaa\xaa")
    assert decoder.pending == 2  # a possible preamble start is kept
    # A valid-looking header announcing a long frame, then a flood nobody pulls frames from:
    decoder.feed(PREAMBLE + b"\x0f\xff" + bytes(100_000))
    assert decoder.pending <= MAX_BUFFER


def test_every_error_status_has_a_family_and_plain_message() -> None:
    for status in ERROR_STATUSES:
        error = status_error(status, Command.FIND_CARD)
        assert isinstance(error, ProtocolError | ReaderUnavailable | CardUnreadable | NoCard)
        assert error.message and all(ord(ch) < 0x80 or "\u3000" <= ch <= "\uffef" for ch in error.message)
        assert f"{int(status):02X}" in error.detail


@pytest.mark.parametrize(
    ("status", "family", "message"),
    [
        (Status.FIND_FAILED, NoCard, "未检测到身份证，请将身份证放在读卡区"),
        (Status.READ_FAILED, CardUnreadable, "读卡失败，请将身份证重新放好"),
        (Status.SELECT_FAILED, CardUnreadable, "读卡失败，请将身份证重新放好"),
        (Status.CHECKSUM_ERROR, ProtocolError, None),
        (Status.LENGTH_ERROR, ProtocolError, None),
        (Status.SAM_NOT_AUTHORIZED, ReaderUnavailable, "读卡器安全模块未授权，请联系技术人员"),
        (Status.UNAUTHORIZED, ReaderUnavailable, "读卡器安全模块未授权，请联系技术人员"),
        (Status.CARD_AUTH_FAILED, ReaderUnavailable, None),
        (Status.SELF_TEST_FAILED, ReaderUnavailable, None),
        (Status.UNKNOWN_CARD_TYPE, CardUnreadable, None),
    ],
)
def test_status_meanings(status: Status, family: type[Exception], message: str | None) -> None:
    error = status_error(status)
    assert type(error) is family
    if message is not None:
        assert error.message == message


def test_unknown_and_misplaced_statuses_are_protocol_errors() -> None:
    assert type(status_error(0x55)) is ProtocolError
    assert type(status_error(Status.OK)) is ProtocolError


def test_card_data_layouts() -> None:
    text, photo, fingerprint = bytes(256), b"\x01" * 1024, b"\x02" * 1024
    plain = parse_card_data(encode_card_data(text, photo), with_fingerprint=False)
    assert (plain.text, plain.photo, plain.fingerprint) == (text, photo, b"")
    full = parse_card_data(encode_card_data(text, photo, fingerprint), with_fingerprint=True)
    assert (full.text, full.photo, full.fingerprint) == (text, photo, fingerprint)
    with pytest.raises(ProtocolError):
        parse_card_data(encode_card_data(text, photo)[:-1], with_fingerprint=False)
    with pytest.raises(ProtocolError):
        parse_card_data(b"\x01", with_fingerprint=True)


def test_sam_id_formatting() -> None:
    assert format_sam_id(encode_sam_id(5, 1, 20101010, 12345678, 1234567890)) == "05.01-20101010-0012345678-1234567890"
    assert format_sam_id(b"\x01\x02") == "0102"


# --- hostile input -----------------------------------------------------------------------------------------------


def drain(decoder: FrameDecoder, *, line_quiet: bool = False) -> tuple[list[bytes], int]:
    """Pull everything out; with `line_quiet`, also give up on a frame in progress, as the backend does when
    the line goes quiet. The loop bound proves the decoder always makes progress."""
    bodies: list[bytes] = []
    errors = 0
    for _ in range(100_000):
        try:
            body = decoder.next_frame()
        except ProtocolError:
            errors += 1
            continue
        if body is not None:
            bodies.append(body)
        elif line_quiet and decoder.pending:
            decoder.abandon_partial()
        else:
            return bodies, errors
    raise AssertionError("decoder did not settle")


def frames() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda sw3, data: encode_response(sw3, data),
        st.integers(0, 255),
        st.binary(max_size=300),
    )


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(frames()))
    kind = draw(st.sampled_from(["flip", "truncate", "garbage", "length", "none"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            frame[draw(st.integers(0, len(frame) - 1))] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        frame = frame[: draw(st.integers(0, len(frame) - 1))]
    elif kind == "garbage":
        at = draw(st.integers(0, len(frame)))
        frame[at:at] = draw(st.binary(min_size=1, max_size=40))
    elif kind == "length":
        frame[5:7] = draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
    return bytes(frame)


@settings(max_examples=300, deadline=1000)
@given(st.binary(max_size=5000), st.lists(st.integers(1, 64), max_size=20))
def test_random_bytes_never_break_the_decoder(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    position = 0
    for cut in [*cuts, len(data)]:
        decoder.feed(data[position : position + cut])
        position += cut
        for body in drain(decoder)[0]:
            # Nothing is invented: every body came from a frame with a good checksum in the stream.
            assert body in data
        assert decoder.pending <= MAX_BUFFER
    decoder.feed(data[position:])
    drain(decoder, line_quiet=True)
    assert decoder.pending == 0


@settings(max_examples=300, deadline=1000)
@given(st.lists(mutated(), min_size=1, max_size=4), frames())
def test_decoder_resynchronises_after_mutated_frames(junk: list[bytes], good: bytes) -> None:
    decoder = FrameDecoder()
    decoder.feed(b"".join(junk) + good)
    bodies, _ = drain(decoder, line_quiet=True)
    # Either the good frame came out, or a mutated frame's bogus LEN swallowed it and the checksum matched by
    # chance (1 in 256) - then that bogus frame is among the output instead.
    assert good[7:-1] in bodies or any(body != good[7:-1] for body in bodies)
    for body in bodies:
        assert parse_response(body) is not None
