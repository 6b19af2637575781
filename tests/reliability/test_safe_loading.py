# SPDX-License-Identifier: GPL-3.0-or-later
"""Safe loading audit (docs/reliability.md, threat model): a model or weights
file must never run code. Static checks over every Python file of the
package, apps and benchmarks, plus the ZMQ endpoints the link really binds."""

import ast
import re
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for d in ("python", "apps", "bench", "fuzz") for p in (REPO / d).rglob("*.py")
                 if "__pycache__" not in p.parts)
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def parse(path):
    return ast.parse(path.read_text(), filename=str(path))


def keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_const(node, value):
    return isinstance(node, ast.Constant) and node.value is value


def safe_kwargs_names(tree):
    """Names bound to dict(..., trust_remote_code=False) (passed on as **kwargs)."""
    names = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and is_const(keyword(node.value, "trust_remote_code"), False)):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def calls(tree):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def attr_name(call):
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def dotted(call):
    f, parts = call.func, []
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


def where(path, node):
    return f"{path.relative_to(REPO)}:{node.lineno}"


def test_sources_found():
    assert len(SOURCES) > 20 and any(p.name == "hf.py" for p in SOURCES)


def test_no_pickle_based_modules_imported():
    bad = []
    for path in SOURCES:
        for node in ast.walk(parse(path)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [where(path, node) for n in names if n.split(".")[0] in UNSAFE_MODULES]
    assert not bad, f"pickle-style deserialisers imported at {bad}"


def test_torch_load_only_with_weights_only():
    bad = []
    for path in SOURCES:
        for call in calls(parse(path)):
            if dotted(call).endswith("torch.load") and not is_const(keyword(call, "weights_only"), True):
                bad.append(where(path, call))
            if attr_name(call) == "load" and is_const(keyword(call, "allow_pickle"), True):
                bad.append(where(path, call))
    assert not bad, f"torch.load without weights_only=True / np.load(allow_pickle=True) at {bad}"


def test_every_from_pretrained_refuses_remote_code():
    bad, seen = [], 0
    for path in SOURCES:
        tree = parse(path)
        safe_names = safe_kwargs_names(tree)
        for call in calls(tree):
            if attr_name(call) != "from_pretrained":
                continue
            seen += 1
            spread = {kw.value.id for kw in call.keywords
                      if kw.arg is None and isinstance(kw.value, ast.Name)}
            if not (is_const(keyword(call, "trust_remote_code"), False) or spread & safe_names):
                bad.append(where(path, call))
    assert seen >= 4
    assert not bad, f"from_pretrained without trust_remote_code=False at {bad}"


def test_model_weights_only_from_safetensors_or_gguf():
    """Every model (not tokenizer) load names use_safetensors=True or a gguf_file."""
    bad = []
    for path in SOURCES:
        for call in calls(parse(path)):
            owner = dotted(call).rsplit(".", 1)[0]
            if attr_name(call) == "from_pretrained" and "Tokenizer" not in owner:
                if not (is_const(keyword(call, "use_safetensors"), True) or keyword(call, "gguf_file")):
                    bad.append(where(path, call))
    assert not bad, f"model loads that could fall back to pickled .bin weights at {bad}"


def test_zmq_addresses_in_files_are_localhost():
    files = [*SOURCES, *(REPO / "examples").glob("*.grc"), *(REPO / "grc").glob("*.yml")]
    bad = []
    for path in files:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for host in re.findall(r"tcp://([^:/\"' ]+)", line):
                if host not in LOCAL_HOSTS and "{" not in host:
                    bad.append(f"{path.relative_to(REPO)}:{lineno}: {host}")
    assert not bad, f"ZMQ endpoints not on localhost: {bad}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def outward_ip():
    """This machine's address on its default route (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def test_zmq_sink_binds_localhost_only_by_default(tiny_lm):
    """The flowgraph of apps/tx_text.py --device zmq with the default address
    (port swapped for a free one) accepts connections on 127.0.0.1 and not on
    the machine's outward address."""
    from gnuradio.lmsscc.phy import blocks as phy_blocks
    from gnuradio.lmsscc.phy import radio

    assert radio.DEFAULT_ZMQ.startswith("tcp://127.0.0.1:")
    port = free_port()
    address = radio.DEFAULT_ZMQ.rsplit(":", 1)[0] + f":{port}"
    tb = radio.build_tx_stream("zmq", phy_blocks.link_tx_stream(model=tiny_lm), address)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) == 0
    ip = outward_ip()
    if ip is not None:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((ip, port)) != 0, f"ZMQ sink reachable on {ip}"
    del tb


@pytest.mark.parametrize("name", ["rx_text", "tx_text"])
def test_apps_default_to_localhost(name, monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(REPO / "apps"))
    monkeypatch.setattr("sys.argv", [name])
    app = importlib.import_module(name)
    args = app.parse_args([]) if name == "tx_text" else app.parse_args()
    assert args.zmq_address.startswith("tcp://127.0.0.1:")
