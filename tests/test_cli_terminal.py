"""What `fetch` and `preview` print is text: a feed cannot drive the admin's terminal."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli.terminal import PrintableStream, printable
from bot.render.plain import collapse_ws, html_to_text
from tests.support.feedserver import FeedServer, Reply
from tests.support.process import run, write_config

# A feed that, printed raw, retitles the terminal window, clears the screen and turns
# the rest red: OSC 0, ED 2, SGR 31, and an 8-bit CSI (U+009B).
HOSTILE = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Evil &#27;]0;pwned&#7;&#27;[2J&#27;[31mWire</title><link>http://127.0.0.1/</link>
<item><title>Quake &#27;[31mhits&#27;[0m coast &#155;2J</title><link>http://127.0.0.1/a</link>
<guid>q1</guid><description>Aftershocks &#27;[2J expected</description></item>
</channel></rss>"""


def test_fetch_and_preview_print_no_control_characters(tmp_path: Path, server: FeedServer) -> None:
    server.route("/evil.xml", Reply(200, {"Content-Type": "application/rss+xml"}, HOSTILE))
    config = write_config(
        tmp_path,
        f'[fetch]\nallow_private_networks = true\n[[feeds]]\nurl = "{server.url("/evil.xml")}"\n',
    )
    fetched = run(["--config", str(config), "fetch"], tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    preview = run(["--config", str(config), "preview"], tmp_path)
    assert preview.returncode == 0, preview.stderr
    for out in (fetched.stdout, preview.stdout):
        assert not any(ch in out for ch in "\x1b\x07\x9b"), repr(out)
    # the feed's title is read without its controls, and the headline keeps its words
    assert "Evil ]0;pwned[2J[31mWire" in fetched.stdout
    assert "Quake [31mhits[0m coast" in preview.stdout


def test_feed_text_loses_control_characters_but_keeps_its_whitespace() -> None:
    assert collapse_ws("a\x1b[2Jb\x7fc\x9bd\x00e") == "a[2Jbcde"
    assert collapse_ws("one\x85two\ttwo") == "one two two"  # NEL and tab are spaces
    assert html_to_text("<p>x&#27;y</p><p>z</p>", paragraphs=True) == "xy\n\nz"


def test_printable_shows_controls_as_escapes_and_keeps_lines() -> None:
    assert printable("a\x1b[2J\tb\nc\x9b\r") == "a\\x1b[2J\tb\nc\\x9b\\x0d"
    sink = io.StringIO()
    stream = PrintableStream(sink)
    assert stream.write("x\x07y\n") == 4
    assert sink.getvalue() == "x\\x07y\n"
    assert stream.isatty() is False
