#!/usr/bin/env python3
"""Regenerates screenshots/*.png from the real wsmon binary.

Each scene runs target/release/wsmon in a private tmux server, drives it with keys, captures
the pane with its colours (`tmux capture-pane -e -p`), parses the ANSI with rich, and draws
every cell on an exact grid with Pillow in DejaVu Sans Mono (an SVG route through
cairosvg drifts out of alignment on long box-drawing lines, because rich sizes its text for
another font).

    pip install -r scripts/requirements-screenshots.txt
    cargo build --release
    python3 scripts/screenshots.py            # all scenes
    python3 scripts/screenshots.py help       # one scene
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from rich.color import ColorType
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "wsmon"
OUT = ROOT / "screenshots"
SOCKET = f"wsmon-shots-{os.getpid()}"
COLS, ROWS = 100, 30
DATA = tempfile.mkdtemp(prefix="wsmon-shots-")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True).stdout


def start(command: str, name: str = "main") -> None:
    env = f"WSMON_DATA_DIR={DATA} TERM=xterm-256color COLORTERM=truecolor"
    tmux("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), f"env {env} {command}")
    tmux("set-option", "-g", "status", "off")


def keys(*k: str, target: str = "main") -> None:
    for key in k:
        tmux("send-keys", "-t", target, key)
        time.sleep(0.15)


def text(s: str, target: str = "main") -> None:
    tmux("send-keys", "-t", target, "-l", s)


def screen(target: str = "main") -> str:
    return tmux("capture-pane", "-p", "-t", target)


def wait_for(needle: str, timeout: float = 40, target: str = "main") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in screen(target):
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {needle!r}:\n{screen(target)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_SIZE = 16
# A dark terminal palette (One Dark), for the 16 named colours.
PALETTE = [
    (40, 44, 52), (224, 108, 117), (152, 195, 121), (229, 192, 123),
    (97, 175, 239), (198, 120, 221), (86, 182, 194), (171, 178, 191),
    (92, 99, 112), (240, 128, 140), (172, 215, 141), (240, 205, 140),
    (117, 190, 255), (214, 140, 235), (106, 202, 214), (230, 232, 236),
]
FG, BG = (204, 208, 214), (30, 33, 39)


def rgb(color, default):
    if color is None or color.type == ColorType.DEFAULT:
        return default
    if color.type == ColorType.STANDARD or (color.type == ColorType.EIGHT_BIT and color.number < 16):
        return PALETTE[color.number]
    t = color.get_truecolor()
    return (t.red, t.green, t.blue)


def cells(ansi: str):
    """Yields rows of (char, fg, bg, bold, underline) from captured ANSI text."""
    console = Console(width=COLS, color_system="truecolor", file=open(os.devnull, "w"))
    # tmux carries styles across line ends, so parse the capture as a whole.
    whole = Text.from_ansi(ansi.rstrip("\n"))
    for line in whole.split("\n")[:ROWS]:
        row = []
        for seg in line.render(console):
            style = seg.style
            fg = rgb(style.color if style else None, FG)
            bg = rgb(style.bgcolor if style else None, BG)
            if style and style.reverse:
                fg, bg = bg, fg
            if style and style.dim:
                fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
            bold = bool(style and style.bold)
            under = bool(style and style.underline)
            for ch in seg.text:
                if ch != "\n":
                    row.append((ch, fg, bg, bold, under))
        yield row[:COLS]


BOX = {
    "─": "lr", "│": "tb", "┌": "rb", "┐": "lb", "└": "rt", "┘": "lt",
    "├": "tbr", "┤": "tbl", "┬": "lrb", "┴": "lrt", "┼": "lrtb",
}


def draw_cell_glyph(draw, c, px, py, cw, ch, fg, bg) -> bool:
    """Draws box-drawing and block characters as geometry so they meet across cells."""
    if c in BOX:
        mx, my = px + cw // 2, py + ch // 2
        for side in BOX[c]:
            if side == "l":
                draw.line([px, my, mx, my], fill=fg)
            elif side == "r":
                draw.line([mx, my, px + cw - 1, my], fill=fg)
            elif side == "t":
                draw.line([mx, py, mx, my], fill=fg)
            elif side == "b":
                draw.line([mx, my, mx, py + ch - 1], fill=fg)
        return True
    if "\u2581" <= c <= "\u2588":
        eighths = ord(c) - 0x2580
        top = py + ch - round(ch * eighths / 8)
        draw.rectangle([px, top, px + cw - 1, py + ch - 1], fill=fg)
        return True
    if c == "░":
        shade = tuple((3 * b + f) // 4 for f, b in zip(fg, bg))
        draw.rectangle([px, py + 2, px + cw - 1, py + ch - 3], fill=shade)
        return True
    return False


def save(name: str, title: str, target: str = "main") -> None:
    ansi = tmux("capture-pane", "-e", "-p", "-t", target)
    regular = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono.ttf"), FONT_SIZE)
    bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono-Bold.ttf"), FONT_SIZE)
    cw = round(regular.getlength("M"))
    ch = round(FONT_SIZE * 1.35)
    pad, bar = 14, 34
    width, height = COLS * cw + 2 * pad, ROWS * ch + 2 * pad + bar
    img = Image.new("RGB", (width, height), (20, 22, 27))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([0, 0, width - 1, height - 1], radius=10, fill=BG)
    for i, c in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
        draw.ellipse([pad + i * 22, 11, pad + i * 22 + 12, 23], fill=c)
    tw = regular.getlength(title)
    draw.text(((width - tw) / 2, 8), title, font=regular, fill=(150, 156, 166))
    for y, row in enumerate(cells(ansi)):
        for x, (c, fg, bg, is_bold, under) in enumerate(row):
            px, py = pad + x * cw, bar + pad + y * ch
            if bg != BG:
                draw.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            if c != " " and not draw_cell_glyph(draw, c, px, py, cw, ch, fg, bg):
                draw.text((px, py + (ch - FONT_SIZE) // 2 - 1), c, font=bold if is_bold else regular, fill=fg)
            if under:
                draw.line([px, py + ch - 2, px + cw - 1, py + ch - 2], fill=fg)
    path = OUT / f"{name}.png"
    img.save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT)}")


def stop() -> None:
    subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
    # Let the server exit before the next scene starts another.
    time.sleep(0.5)


def scene_demo() -> None:
    start(f"{BIN} --demo")
    wait_for("OPEN")
    wait_for("binary" if False else " bin ", timeout=15)
    text('{"subscribe":"WSM","depth":5}')
    keys("Enter")
    time.sleep(2.2)
    save("demo", "wsmon --demo")
    stop()


def scene_reconnect() -> None:
    port = free_port()
    start(f"{BIN} serve --port {port} --tick 1s", name="server")
    time.sleep(0.5)
    start(f"{BIN} ws://127.0.0.1:{port}/ --reconnect-min 1s --reconnect-max 30s")
    wait_for("OPEN")
    time.sleep(4)
    subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", "server"], check=True)
    wait_for("(attempt 3)")
    wait_for("WAITING 2")
    save("reconnect", "the server went away: waiting to retry")
    stop()


def scene_http_401() -> None:
    port = free_port()
    start(f"{BIN} serve --port {port} --reject 401 --reject-body 'token expired'", name="server")
    time.sleep(0.5)
    start(f"{BIN} ws://127.0.0.1:{port}/orders?token=s3cr3t -H 'Authorization: Bearer eyJhbGciOi' --reconnect-min 5s --reconnect-max 60s")
    wait_for("HTTP 401")
    keys("F8")
    wait_for("WWW-Authenticate")
    save("http-401", "an upgrade answered 401: status, headers and body")
    stop()


def scene_json_detail() -> None:
    start(f"{BIN} --demo")
    wait_for("OPEN")
    wait_for('"quote"', timeout=15)
    keys("F3")
    text("quote")
    keys("Enter", "Enter")
    wait_for("JSON ·")
    save("json-detail", "Enter on a message: JSON pretty-printed")
    stop()


def scene_tls() -> None:
    # A self-signed certificate, made by openssl as people make them.
    port = free_port()
    cert, key = Path(DATA) / "server.pem", Path(DATA) / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True)
    start(f"{BIN} serve --port {port} --tls-cert {cert} --tls-key {key}", name="server")
    time.sleep(0.5)
    start(f"{BIN} wss://localhost:{port}/feed --reconnect-min 3s --reconnect-max 30s")
    wait_for("untrusted self-signed")
    time.sleep(1.5)
    save("tls-self-signed", "a self-signed certificate: the verdict, the fix, how far the dial got")
    stop()


def scene_commands() -> None:
    start(f"{BIN} --demo")
    wait_for("OPEN")
    time.sleep(3)
    text("/re")
    wait_for("Tab completes")
    save("commands", "typing / lists the commands that match, with their keys; Tab completes")
    stop()


def scene_help() -> None:
    start(f"{BIN} --demo")
    wait_for("OPEN")
    time.sleep(3)
    keys("F1")
    wait_for("wsmon keys")
    save("help", "F1, Alt-H or /help: every action, its keys and its /command")
    stop()


def scene_fleet() -> None:
    global COLS, ROWS
    COLS, ROWS = 130, 16
    servers = {
        "orders-eu": "--demo",
        "ticker": "--tick 1s",
        "flappy": "--drop-after 6s",
        "slow-pong": "--pong-delay 180ms",
        "auth-gw": "--reject 503 --retry-after 20 --reject-body 'maintenance'",
    }
    lines = ['ping_interval = "2s"', 'reconnect_max = "10s"']
    for i, (name, flags) in enumerate(servers.items()):
        port = free_port()
        start(f"{BIN} serve --port {port} {flags}", name=f"srv{i}")
        lines += ["", "[[endpoint]]", f'name = "{name}"', f'url = "ws://127.0.0.1:{port}/{name}"']
    # Nothing listens on these two.
    for name in ["billing", "search"]:
        lines += ["", "[[endpoint]]", f'name = "{name}"', f'url = "ws://127.0.0.1:{free_port()}/{name}"']
    config = Path(DATA) / "fleet.toml"
    config.write_text("\n".join(lines) + "\n")
    time.sleep(0.5)
    start(f"{BIN} --config {config}")
    wait_for("FLEET 7")
    time.sleep(16)
    save("fleet", "a fleet: problems first, Enter opens one")
    stop()
    COLS, ROWS = 100, 30


def scene_targets() -> None:
    # A fleet from a Prometheus file-SD targets file: labels as a column; the file rewritten
    # while it runs (one target dropped, one added), the notice saying so.
    global COLS, ROWS
    COLS, ROWS = 130, 14
    ports = {name: free_port() for name in ["eu", "us", "asia"]}
    for i, (name, port) in enumerate(ports.items()):
        start(f"{BIN} serve --port {port} --tick 2s", name=f"srv{i}")
    targets = Path(DATA) / "targets.yml"

    def write(entries):
        lines = []
        for name, region, team in entries:
            lines += [f"- targets: ['ws://127.0.0.1:{ports[name]}/feed']",
                      f"  labels: {{name: {name}-feed, region: {region}, team: {team}}}"]
        tmp = targets.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.rename(targets)

    write([("eu", "eu-west", "payments"), ("us", "us-east", "payments")])
    time.sleep(0.5)
    start(f"{BIN} --targets-file {targets}")
    wait_for("FLEET 2")
    time.sleep(3)
    write([("eu", "eu-west", "payments"), ("asia", "ap-northeast", "search")])
    wait_for("1 added, 1 removed")
    time.sleep(2)
    save("targets-file", "--targets-file: labels as a column, the file re-read as it changes")
    stop()
    COLS, ROWS = 100, 30


PEERS = ROOT / "tests" / "peers"


def scene_socketio() -> None:
    # The real Socket.IO 4 server from npm (tests/peers; `npm ci --prefix tests/peers` first).
    port = free_port()
    start(f"node {PEERS / 'socketio-server.js'} {port} 5000 3000", name="server")
    time.sleep(1.0)
    start(f"{BIN} --preset socketio --on-open 'subscribe \"prices\"' --stale-after 10s ws://127.0.0.1:{port}/")
    wait_for("tick")
    time.sleep(6)
    save("socketio", "--preset socketio: joined, events decoded, the server's pings answered")
    stop()


def scene_stale() -> None:
    # Connected and answering the server's heartbeat, but subscribed to nothing: STALE.
    port = free_port()
    start(f"node {PEERS / 'socketio-server.js'} {port} 2000 1000", name="server")
    time.sleep(1.0)
    start(f"{BIN} --preset socketio --stale-after 3s ws://127.0.0.1:{port}/")
    wait_for("STALE 7")
    save("stale", "open, heartbeat answered, and no data: STALE")
    stop()


SCENES = {
    "demo": scene_demo,
    "socketio": scene_socketio,
    "stale": scene_stale,
    "reconnect": scene_reconnect,
    "http-401": scene_http_401,
    "json-detail": scene_json_detail,
    "help": scene_help,
    "tls-self-signed": scene_tls,
    "commands": scene_commands,
    "fleet": scene_fleet,
    "targets-file": scene_targets,
}


def main() -> None:
    if not BIN.exists():
        raise SystemExit("build first: cargo build --release")
    OUT.mkdir(exist_ok=True)
    names = sys.argv[1:] or list(SCENES)
    try:
        for name in names:
            SCENES[name]()
    finally:
        stop()


if __name__ == "__main__":
    main()
