"""A loopback HTTP server that plays Twilio's REST API.

It accepts, with HTTP basic auth:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: records the
  message and sends signed status callbacks (``sent``, then ``delivered``)
  to the URL the request named. Numbers in ``opted_out`` get error 21610.
- ``POST .../Calls/{CallSid}/Recordings.json``: starts a recording of a
  call; ``finish_recordings`` later reports each one completed, with its
  URL, as Twilio does when the call ends.
- ``POST .../Calls.json``: records the call to place. The test or the
  person driving the double then plays the call's webhooks. Numbers in
  ``call_errors`` get that Twilio error code instead.
"""

import base64
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Optional, Set
from urllib.parse import parse_qs

from bot.simulator.signing import new_sid, post_signed

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/2010-04-01/Accounts/{account}/Messages.json"
RECORDINGS_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>\w+)/Calls/(?P<call>\w+)/Recordings\.json$")


CALLS_PATH = "/2010-04-01/Accounts/{account}/Calls.json"


@dataclass
class PlacedCall:
    sid: str
    to: str
    from_: str
    url: str
    status_callback: Optional[str]
    machine_detection: Optional[str]
    placed_at: float


@dataclass
class Recording:
    sid: str
    call_sid: str
    status_callback: Optional[str]


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: Optional[str]


@dataclass
class TwilioDouble:
    account_sid: str
    auth_token: str
    host: str = "127.0.0.1"
    port: int = 0
    send_status_callbacks: bool = True
    callback_delay_seconds: float = 0.05
    opted_out: Set[str] = field(default_factory=set)
    on_message: Optional[Callable[[SentMessage], None]] = None
    on_call: Optional[Callable[["PlacedCall"], None]] = None
    messages: List[SentMessage] = field(default_factory=list)
    recordings: List[Recording] = field(default_factory=list)
    calls: List[PlacedCall] = field(default_factory=list)
    call_errors: dict = field(default_factory=dict)

    def start(self) -> "TwilioDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - signature fixed by http.server
                logger.debug("Twilio double: " + format, *args)

            def do_POST(self):
                double._handle(self)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _authorised(self, handler) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return handler.headers.get("Authorization") == f"Basic {expected}"

    def _reply(self, handler, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _handle(self, handler) -> None:
        recording = RECORDINGS_PATH.match(handler.path)
        calls = handler.path == CALLS_PATH.format(account=self.account_sid)
        known = calls or handler.path == MESSAGES_PATH.format(account=self.account_sid) or (
            recording is not None and recording.group("account") == self.account_sid
        )
        if not known:
            self._reply(handler, 404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            return
        if not self._authorised(handler):
            self._reply(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
            return

        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        if recording is not None:
            self._start_recording(handler, recording.group("call"), form)
        elif calls:
            self._place_call(handler, form)
        else:
            self._send_message(handler, form)

    def _place_call(self, handler, form: dict) -> None:
        to = form.get("To", "")
        if to in self.call_errors:
            code = self.call_errors[to]
            self._reply(handler, 400, {"code": code, "message": f"Twilio error {code}", "status": 400})
            return
        call = PlacedCall(
            sid=new_sid("CA"), to=to, from_=form.get("From", ""), url=form.get("Url", ""),
            status_callback=form.get("StatusCallback"), machine_detection=form.get("MachineDetection"),
            placed_at=time.time(),
        )
        self.calls.append(call)
        if self.on_call:
            self.on_call(call)
        self._reply(handler, 201, {
            "sid": call.sid, "account_sid": self.account_sid, "to": call.to, "from": call.from_,
            "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json",
        })

    def _start_recording(self, handler, call_sid: str, form: dict) -> None:
        entry = Recording(sid=new_sid("RE"), call_sid=call_sid, status_callback=form.get("RecordingStatusCallback"))
        self.recordings.append(entry)
        self._reply(handler, 201, {
            "sid": entry.sid, "account_sid": self.account_sid, "call_sid": call_sid,
            "status": "in-progress", "channels": 1, "source": "StartCallRecordingAPI",
            "start_time": None, "duration": None, "price": None, "price_unit": "USD",
            "conference_sid": None, "error_code": None, "track": "both",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call_sid}/Recordings/{entry.sid}.json",
        })

    def finish_recordings(self) -> None:
        """Report every started recording completed, as at the end of its call."""
        for entry in self.recordings:
            if not entry.status_callback:
                continue
            params = {
                "AccountSid": self.account_sid, "CallSid": entry.call_sid, "RecordingSid": entry.sid,
                "RecordingStatus": "completed", "RecordingDuration": "42", "RecordingChannels": "1",
                "RecordingUrl": f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{entry.sid}",
            }
            post_signed(self.auth_token, entry.status_callback, params, timeout=10)

    def _send_message(self, handler, form: dict) -> None:
        to = form.get("To", "")
        if to in self.opted_out:
            self._reply(handler, 400, {
                "code": 21610,
                "message": "Attempt to send to unsubscribed recipient",
                "status": 400,
            })
            return

        message = SentMessage(
            sid=new_sid("SM"), to=to, from_=form.get("From", ""),
            body=form.get("Body", ""), status_callback=form.get("StatusCallback"),
        )
        self.messages.append(message)
        self._reply(handler, 201, {
            "sid": message.sid, "account_sid": self.account_sid, "to": message.to,
            "from": message.from_, "body": message.body, "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
        })
        if self.on_message:
            self.on_message(message)
        if self.send_status_callbacks and message.status_callback:
            threading.Thread(target=self._report_status, args=(message,), daemon=True).start()

    def _report_status(self, message: SentMessage) -> None:
        for status in ("sent", "delivered"):
            time.sleep(self.callback_delay_seconds)
            params = {
                "MessageSid": message.sid, "MessageStatus": status, "SmsStatus": status,
                "AccountSid": self.account_sid, "To": message.to, "From": message.from_,
                "ApiVersion": "2010-04-01",
            }
            try:
                post_signed(self.auth_token, message.status_callback, params, timeout=10)
            except Exception as error:  # the gateway may be gone; Twilio would not care either
                logger.warning("Twilio double: status callback for %s failed (%s)", message.sid, error)
