# SPDX-License-Identifier: GPL-3.0-or-later
"""tx_text / rx_text as a user runs them, over ZMQ on 127.0.0.1: "sent" means
the burst left the flowgraph, even with a slow coder; a timeout is an error;
--interactive is a chat (tiny LM, so that it is fast)."""

import json
import socket
import subprocess
import sys
import time

import pytest

from testutil import APPS, run_app

# 110 characters: the length of the quote that issue 13 lost over ZMQ.
QUOTE = ("The most exciting phrase to hear in science, the one that heralds discoveries, "
         "is not Eureka but That's funny.")


@pytest.fixture(scope="module")
def tiny_dir(tiny_model_dir):
    return str(tiny_model_dir)


def _address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def _start_rx(tiny_dir, address, count, *extra):
    rx = subprocess.Popen([sys.executable, str(APPS / "rx_text.py"), "--model", tiny_dir, "--count",
                           str(count), "--timeout", "240", "--zmq-address", address, *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180  # model load on a loaded machine
    banner = []
    while time.monotonic() < deadline:
        line = rx.stderr.readline()
        banner.append(line)
        if "listening" in line or not line:
            break
    return rx, "".join(banner)


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_slow_coder_over_zmq_sent_only_after_the_burst_left(tiny_dir):
    """A coder slowed to ~0.05 s a token (~5 s for the quote): tx_text waits
    for the burst to leave before it prints "sent" and exits; the receiver
    gets the 110 characters. (Before, tx_text printed "sent" at once and
    stopped the flowgraph after 1.5 s: the message was lost.)"""
    assert len(QUOTE) == 110
    address = _address()
    rx, banner = _start_rx(tiny_dir, address, 1, "--json")
    try:
        start = time.monotonic()
        tx = run_app("tx_text.py", "--device", "zmq", "--model", tiny_dir, "--zmq-address", address,
                     "--token-delay", "0.05", "--json", QUOTE, timeout=300)
        tx_seconds = time.monotonic() - start
        assert tx.returncode == 0, tx.stderr[-2000:]
        out, err = rx.communicate(timeout=120)
    finally:
        rx.kill()
    assert "message format 3 (lean)" in banner
    (sent,) = _json_lines(tx.stdout)
    assert sent["sent"] == QUOTE
    assert sent["samples_out"] >= sent["samples"] > 0  # the sink had consumed the whole burst
    assert tx_seconds > 4  # the slow coding was waited for (91 tokens x 0.05 s)
    assert [r["received"] for r in _json_lines(out)] == [QUOTE], err[-2000:]


def test_send_timeout_is_a_clear_error_not_sent(tiny_dir):
    tx = run_app("tx_text.py", "--device", "zmq", "--model", tiny_dir, "--zmq-address", _address(),
                 "--token-delay", "0.2", "--send-timeout", "2", QUOTE, "second message",
                 timeout=300)
    assert tx.returncode != 0
    assert "tx_text: message 1 NOT sent: not coded within 2 s" in tx.stderr
    assert "sent:" not in tx.stdout and "Traceback" not in tx.stderr


def test_interactive_chat_over_zmq(tiny_dir):
    """Three lines piped into tx_text --interactive arrive at rx_text in order,
    each printed with its SNR and size; the lines are one conversation."""
    lines = ["hello from the first radio", "are you receiving me?", "over and out"]
    address = _address()
    rx, _ = _start_rx(tiny_dir, address, 3)
    try:
        tx = subprocess.Popen([sys.executable, str(APPS / "tx_text.py"), "--device", "zmq", "--model",
                               tiny_dir, "--zmq-address", address, "--interactive", "--interval", "0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        for line in lines:  # typed one after the other
            tx.stdin.write(line + "\n")
            tx.stdin.flush()
            time.sleep(0.5)
        tx_out, tx_err = tx.communicate(timeout=300)
        assert tx.returncode == 0, tx_err[-2000:]
        out, err = rx.communicate(timeout=120)
    finally:
        rx.kill()
    assert "conversation" in tx_err and "message format 3 (lean)" in tx_err
    sent = [line.split("  [seq")[0] for line in tx_out.splitlines() if line.startswith("sent: ")]
    assert sent == [f"sent: {t}" for t in lines]
    printed = [line for line in out.splitlines() if line.startswith("[seq")]
    assert [p.split("] ", 1)[1] for p in printed] == lines, err[-2000:]
    for p in printed:
        assert " dB, " in p and "message bits" in p and "coded bits" in p


def test_interactive_chat_over_loopback(tiny_dir):
    r = subprocess.run([sys.executable, str(APPS / "tx_text.py"), "--model", tiny_dir, "--interactive",
                        "--snr", "10"], input="one\ntwo, the second line\nthree\n", capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "3 of 3 messages received exactly" in r.stdout
    received = [line.split(":", 1)[1].strip() for line in r.stdout.splitlines() if line.startswith("received:")]
    assert received == ["one", "two, the second line", "three"]


@pytest.mark.parametrize("lines", [["plain message, no history"]])
def test_rx_text_lean_default_reads_single_messages(tiny_dir, lines):
    """rx_text keeps conversation history by default (lean); a sender without
    --conversation (single messages) is still decoded."""
    address = _address()
    rx, _ = _start_rx(tiny_dir, address, 1, "--json")
    try:
        tx = run_app("tx_text.py", "--device", "zmq", "--model", tiny_dir, "--zmq-address", address,
                     *lines, timeout=300)
        assert tx.returncode == 0, tx.stderr[-2000:]
        out, err = rx.communicate(timeout=120)
    finally:
        rx.kill()
    assert [r["received"] for r in _json_lines(out)] == lines, err[-2000:]


@pytest.mark.parametrize("engine", ["native", "hf"])
def test_quote_arrives_over_zmq_with_the_default_model(engine):
    """Issue 13: the 110-character quote over ZMQ with the real default model, for each engine;
    "sent" is printed only once the burst has left (the sink consumed all its samples)."""
    address = _address()
    rx, banner = _start_rx("default", address, 1, "--json", "--engine", engine)
    try:
        tx = run_app("tx_text.py", "--device", "zmq", "--model", "default", "--engine", engine,
                     "--zmq-address", address, "--json", QUOTE, timeout=600)
        assert tx.returncode == 0, tx.stderr[-2000:]
        out, err = rx.communicate(timeout=240)
    finally:
        rx.kill()
    assert f"LM engine {engine}" in banner, banner
    (sent,) = _json_lines(tx.stdout)
    assert sent["sent"] == QUOTE and sent["samples_out"] >= sent["samples"] > 0
    assert [r["received"] for r in _json_lines(out)] == [QUOTE], err[-2000:]


# What each driver says when it finds no device (UHD 4.3: a LookupError
# "No devices found for ----->"; gr-soapy: SoapySDR's make() finds no match,
# for driver=hackrf too). Any other error inside the radio set-up (an
# ImportError, a TypeError from a wrong argument) is a bug, not "no radio".
NO_DEVICE_ERRORS = {"uhd": "No devices found", "hackrf": "SoapySDR::Device::make() no match",
                    "soapy": "SoapySDR::Device::make() no match"}


@pytest.mark.parametrize("app,role", [("tx_text", "transmitter"), ("rx_text", "receiver")])
@pytest.mark.parametrize("device", sorted(NO_DEVICE_ERRORS))
def test_hardware_modes_without_radio_fail_with_one_line(app, role, device, tiny_dir):
    """No SDR attached: one line naming the device, ending with the driver's
    own no-device error; no traceback."""
    messages = ["hello"] if app == "tx_text" else []
    r = run_app(f"{app}.py", "--device", device, "--model", tiny_dir, *messages, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    prefix = f"{app}: cannot open {device} {role} (default args): "
    assert last.startswith(prefix), last
    assert NO_DEVICE_ERRORS[device] in last[len(prefix):], f"not the driver's no-device error: {last}"
