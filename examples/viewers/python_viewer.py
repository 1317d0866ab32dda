#!/usr/bin/env python3
"""A Swarm Monitor viewer in Python: follows /dashboard, plain or compressed.

    SWARM_MONITOR_VIEWER_TOKEN=... python3 examples/viewers/python_viewer.py --url http://127.0.0.1:7420
    python3 examples/viewers/python_viewer.py --url ... --encoding json --seconds 10

The token comes from SWARM_MONITOR_VIEWER_TOKEN (a viewer or operator token),
not the command line, which every user of the machine can read (`ps`).

Needs python-socketio 5 and websocket-client (Debian: python3-socketio
python3-websocket; pip: "python-socketio[client]").

The protocol in short (docs/protocol.md): connect to /dashboard with auth
{token, encoding?}. The server answers `welcome` (its `encoding` says what it
chose), then `snapshot`, then `events` batches in seq order. With
`encoding: "deflate-raw"` the large ones come as `snapshot:deflate-raw` and
`events:deflate-raw`: a base64 string of the JSON compressed with raw DEFLATE,
which `zlib.decompress(base64.b64decode(data), -15)` turns back into the same
JSON; the small ones still come plain. Apply both kinds in the order they
arrive (python-socketio calls handlers one at a time, in order).

It prints one line per message and, at the end (after --seconds, or on
Ctrl-C), a JSON summary: the encoding the server chose, how many snapshots,
batches and events came, how many of them compressed, and the last seq.
"""

import argparse
import base64
import json
import os
import signal
import threading
import zlib

import socketio

NAMESPACE = "/dashboard"


def inflate(data):
    """The JSON of a `*:deflate-raw` message: base64, then raw DEFLATE (wbits -15: no zlib header)."""
    return json.loads(zlib.decompress(base64.b64decode(data), -15))


class Viewer:
    def __init__(self, args):
        self.args = args
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.done = threading.Event()
        self.summary = {"encoding": None, "snapshots": 0, "batches": 0, "events": 0, "compressed": 0, "seq": None}
        self.sio.on("welcome", self.on_welcome, namespace=NAMESPACE)
        self.sio.on("snapshot", self.on_snapshot, namespace=NAMESPACE)
        self.sio.on("events", self.on_events, namespace=NAMESPACE)
        self.sio.on("snapshot:deflate-raw", self.on_compressed_snapshot, namespace=NAMESPACE)
        self.sio.on("events:deflate-raw", self.on_compressed_events, namespace=NAMESPACE)
        self.sio.on("disconnect", self.on_disconnect, namespace=NAMESPACE)

    def on_welcome(self, welcome):
        # A server older than the encodings sends no `encoding`: plain JSON.
        self.summary["encoding"] = welcome.get("encoding", "json")
        print(f"welcome: role {welcome['role']}, encoding {self.summary['encoding']}", flush=True)

    def on_snapshot(self, snapshot):
        self.summary["snapshots"] += 1
        self.summary["seq"] = snapshot["seq"]
        print(f"snapshot at seq {snapshot['seq']}: {len(snapshot['agents'])} agents, {len(snapshot['tasks'])} tasks", flush=True)

    def on_events(self, events):
        self.summary["batches"] += 1
        self.summary["events"] += len(events)
        if events:
            self.summary["seq"] = events[-1]["seq"]
        print(f"events {events[0]['seq']}..{events[-1]['seq']}: {', '.join(sorted({e['type'] for e in events}))}", flush=True)

    def on_compressed_snapshot(self, data):
        self.summary["compressed"] += 1
        self.on_snapshot(inflate(data))

    def on_compressed_events(self, data):
        self.summary["compressed"] += 1
        self.on_events(inflate(data))

    def on_disconnect(self, *reason):
        print(f"disconnected {reason[0] if reason else ''}".strip(), flush=True)
        self.done.set()

    def run(self):
        auth = {"token": self.args.token}
        if self.args.encoding != "json":
            auth["encoding"] = self.args.encoding
        self.sio.connect(self.args.url, namespaces=[NAMESPACE], auth=auth, transports=["websocket"])
        self.done.wait(self.args.seconds if self.args.seconds > 0 else None)
        if self.sio.connected:
            self.sio.disconnect()
        print(json.dumps(self.summary), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:7420")
    parser.add_argument("--encoding", choices=["deflate-raw", "json"], default="deflate-raw")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (default: until Ctrl-C)")
    args = parser.parse_args()
    args.token = os.environ.get("SWARM_MONITOR_VIEWER_TOKEN", "")
    if not args.token:
        parser.error("set SWARM_MONITOR_VIEWER_TOKEN to a viewer or operator token")
    viewer = Viewer(args)
    signal.signal(signal.SIGINT, lambda *_: viewer.done.set())
    signal.signal(signal.SIGTERM, lambda *_: viewer.done.set())
    viewer.run()


if __name__ == "__main__":
    main()
