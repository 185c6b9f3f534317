"""Drive a headless Chromium over the Chrome DevTools Protocol (CDP), with no extra package.

Used by the site's browser tests (``tests/test_site_browser.py``). Chromium is started
with ``--remote-debugging-pipe``: it reads CDP commands on file descriptor 3 and writes
replies and events on descriptor 4, as JSON messages ended by a NUL byte (the transport
Playwright and Puppeteer use). So no websocket client, no port and no browser download
are needed — only Debian's ``chromium`` (``apt-get install chromium``).

Protocol reference: https://chromedevtools.github.io/devtools-protocol/

Example
-------
>>> with Chromium() as browser:  # doctest: +SKIP
...     page = browser.new_page()
...     page.goto("file:///tmp/index.html")
...     page.evaluate("document.title")
'EcomLab course'
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

#: Flags that run headless Chromium in a container, offline and without side traffic.
FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


class CDPError(RuntimeError):
    """A CDP command returned an error, or the browser did not answer in time."""


def find_chromium() -> str | None:
    """Path of a Chromium executable on PATH (``chromium``, ``chromium-browser``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless Chromium process spoken to over the CDP pipe.

    Parameters
    ----------
    executable
        The browser binary (default: :func:`find_chromium`).
    timeout
        Seconds to wait for any single command reply or awaited event.
    """

    def __init__(self, executable: str | None = None, *, timeout: float = 30.0) -> None:
        exe = executable or find_chromium()
        if not exe:
            raise ValueError("executable: no chromium on PATH (apt-get install chromium)")
        if not timeout or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = float(timeout)
        self._profile = tempfile.mkdtemp(prefix="ecomlab-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def _fds() -> None:  # in the child: commands on fd 3, replies on fd 4
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=_fds,  # noqa: PLW1509 (no threads hold locks yet)
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.version = self.send("Browser.getVersion")

    # ------------------------------------------------------------------ transport
    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            *messages, buf = buf.split(b"\0")
            with self._cond:
                for raw in messages:
                    msg = json.loads(raw)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self._events.append(msg)
                self._cond.notify_all()

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its ``result`` (raise :class:`CDPError` on error)."""
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            msg: dict[str, Any] = {"id": mid, "method": method, "params": params}
            if session:
                msg["sessionId"] = session
            data = json.dumps(msg).encode() + b"\0"
            while data:
                data = data[os.write(self._to_browser, data):]
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CDPError(f"{method}: no reply from the browser in {self.timeout:.0f} s")
                self._cond.wait(left)
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')} {reply['error'].get('data', '')}")
        return reply.get("result", {})

    def events(self, session: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Events received so far (of one session and/or method), oldest first."""
        with self._cond:
            return [e for e in self._events
                    if (session is None or e.get("sessionId") == session)
                    and (method is None or e.get("method") == method)]

    def clear_events(self, session: str | None = None) -> None:
        """Forget received events (of one session)."""
        with self._cond:
            self._events = [e for e in self._events
                            if session is not None and e.get("sessionId") != session]

    def wait_event(self, method: str, session: str | None = None,
                   predicate: Callable[[dict[str, Any]], bool] | None = None,
                   timeout: float | None = None) -> dict[str, Any]:
        """Wait for (and consume) the first event ``method`` matching ``predicate``."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                for i, e in enumerate(self._events):
                    if e.get("method") == method and (session is None or e.get("sessionId") == session) \
                            and (predicate is None or predicate(e.get("params", {}))):
                        return self._events.pop(i)
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CDPError(f"no {method} event within {timeout or self.timeout:.0f} s")
                self._cond.wait(left)

    # ------------------------------------------------------------------ pages
    def new_page(self, width: int = 1280, height: int = 900) -> Page:
        """Open a tab, attach to it and enable the Page, Runtime and Network domains."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Network", "DOM", "CSS"):
            page.send(f"{domain}.enable")
        page.set_viewport(width, height)
        return page

    def close(self) -> None:
        """Ask the browser to quit, then make sure the process and its profile are gone."""
        if self.proc.poll() is None:
            try:
                self.send("Browser.close")
            except CDPError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One tab: navigate, evaluate JavaScript, read the requests it made, screenshot it."""

    def __init__(self, browser: Chromium, session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a CDP command to this tab."""
        return self.browser.send(method, self.session, **params)

    def set_viewport(self, width: int, height: int = 900) -> None:
        """Emulate a window ``width`` CSS pixels wide (mobile emulation below 600 px)."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)

    def goto(self, url: str, timeout: float | None = None) -> None:
        """Navigate and wait for the ``load`` event."""
        self.browser.clear_events(self.session)
        nav = self.send("Page.navigate", url=url)
        if nav.get("errorText"):
            raise CDPError(f"navigate {url}: {nav['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session, timeout=timeout)

    def evaluate(self, expression: str, timeout: float | None = None) -> Any:
        """Evaluate JavaScript (promises awaited) and return its JSON value."""
        res = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                        returnByValue=True, timeout=int(1000 * (timeout or self.browser.timeout)))
        if "exceptionDetails" in res:
            details = res["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JavaScript error: {text}")
        return res["result"].get("value")

    def requests(self) -> list[str]:
        """URLs of every request this tab made since the last :meth:`goto`."""
        return [e["params"]["request"]["url"]
                for e in self.browser.events(self.session, "Network.requestWillBeSent")]

    def failed_requests(self) -> list[str]:
        """Requests that failed (not found, blocked, refused) since the last :meth:`goto`."""
        ids = {e["params"]["requestId"]: e["params"]["request"]["url"]
               for e in self.browser.events(self.session, "Network.requestWillBeSent")}
        return [f"{ids.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
                for e in self.browser.events(self.session, "Network.loadingFailed")]

    def screenshot(self, path: str | os.PathLike[str], full_page: bool = True) -> None:
        """Write a PNG of the page (the whole scrollable height with ``full_page``)."""
        import base64

        params: dict[str, Any] = {"format": "png"}
        if full_page:
            w, h = self.evaluate("[document.documentElement.clientWidth,"
                                 " Math.min(document.documentElement.scrollHeight, 12000)]")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
        data = self.send("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))
