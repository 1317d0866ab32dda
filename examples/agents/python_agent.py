#!/usr/bin/env python3
"""A Swarm Monitor remote agent in Python, with python-socketio's Client.

    SWARM_MONITOR_AGENT_TOKEN=... python3 examples/agents/python_agent.py --url http://127.0.0.1:7420

The agent token comes from SWARM_MONITOR_AGENT_TOKEN. --token TOKEN works too,
with a warning: a command line is visible to every user of the machine (ps,
/proc/PID/cmdline), the environment is not.

Needs python-socketio 5 and websocket-client (Debian: python3-socketio
python3-websocket python3-requests; pip: "python-socketio[client]").

Capabilities: python, hash, sleep. Task kinds it runs (docs/agents.md):
    hash   payload {"text": str, "algorithm"?: str}  -> {"algorithm", "digest"}
    sleep  payload {"ms": number}                    -> {"sleptMs"}, cancellable
Submit with "capabilities": ["python"] to send a task to this agent only.

The protocol in short: connect to the /agents namespace with auth {token},
emit agent:register and wait for its ack, then receive task:assign / task:cancel
and emit task:progress, task:complete, task:fail, log, and agent:heartbeat
every 5 s. On SIGTERM or Ctrl-C it disconnects and exits 0; the server
requeues whatever was running. It reconnects (1 s ... 30 s with jitter) and
registers again after a lost connection, under the same id, presenting the
sessionKey of its last registration so that it takes its id over at once even
if the server still holds its old (half-open) connection. An id held by
another live connection is refused with "conflict": it tries again with the
same backoff until the id frees. Its tasks go on over a lost link (a server
restart, a cluster failover): the next registration names them ("running"),
with ends it could not send, and the server gives back those still its
("resumed") — the others it stops (docs/agents.md).
"""

import argparse
import hashlib
import os
import random
import signal
import socket
import sys
import threading
import time

import socketio

NAMESPACE = "/agents"
HEARTBEAT_S = 5.0
MAX_BACKOFF_S = 30.0


def log(agent_id, message):
    print(f"[{agent_id}] {message}", flush=True)


class ProcessResources:
    """CPU percent of this process since the last sample, resident memory in MB."""

    def __init__(self):
        self.cpu = time.process_time()
        self.at = time.monotonic()

    def sample(self):
        cpu, at = time.process_time(), time.monotonic()
        percent = 100.0 * (cpu - self.cpu) / max(at - self.at, 1e-6)
        self.cpu, self.at = cpu, at
        memory_mb = 0.0
        try:
            with open("/proc/self/statm") as statm:
                memory_mb = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except OSError:
            pass
        return {"cpu": round(percent, 1), "memoryMb": round(memory_mb)}


class Agent:
    def __init__(self, args):
        self.args = args
        self.id = args.id
        # Reconnection is ours (see run()): python-socketio does not retry after the server closes the socket.
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.stopping = threading.Event()
        self.registered = threading.Event()
        self.closed_reason = None
        # From the last registration ack; proves a reconnect is this process (docs/agents.md).
        self.session_key = None
        self.exit_code = 0
        self.lock = threading.Lock()
        # taskId -> threading.Event set when the task must stop (cancel, the server closing or requeueing it)
        self.running = {}
        # taskId -> (event, message): ends that found no connection, sent after the next registration
        self.unsent = {}
        # The tasks the last registration named as still ours (docs/agents.md, work that survives a restart)
        self.named = []
        self.resources = ProcessResources()
        self._bind()

    # ---- Socket.IO events ------------------------------------------------

    def _bind(self):
        sio = self.sio

        @sio.on("connect", namespace=NAMESPACE)
        def on_connect():
            registration = {
                "id": self.id,
                "name": self.args.name or self.id,
                "capabilities": ["python", "hash", "sleep"],
                # Only these kinds are assigned here: a demo task (kind "report", no capability) goes elsewhere.
                "kinds": ["hash", "sleep"],
                "concurrency": self.args.concurrency,
            }
            if self.session_key:
                registration["sessionKey"] = self.session_key
            # After a lost link (a server restart, a cluster failover): the tasks still running or ended unreported.
            with self.lock:
                self.named = list(dict.fromkeys([*self.running.keys(), *self.unsent.keys()]))[:256]
            if self.named:
                registration["running"] = self.named
            # An ack callback, not call(): the connect handler runs on the receiving thread.
            sio.emit("agent:register", registration, namespace=NAMESPACE, callback=self._on_registered)

        @sio.on("connect_error", namespace=NAMESPACE)
        def on_connect_error(data):
            message = data.get("message") if isinstance(data, dict) else str(data)
            if message in ("unauthorized", "forbidden"):
                log(self.id, f"connection refused: {message} (check the agent token)")
                self.exit_code = 2
                self.stopping.set()

        @sio.on("disconnect", namespace=NAMESPACE)
        def on_disconnect(*_reason):
            self.registered.clear()
            # Closed by the server (replaced, silent): it requeued everything this agent held. A lost link may be
            # the server going away: the tasks go on, and the next registration names them.
            if self.closed_reason is None:
                return
            with self.lock:
                for stop in self.running.values():
                    stop.set()
                self.running.clear()
                self.unsent.clear()

        @sio.on("agent:closed", namespace=NAMESPACE)
        def on_closed(message):
            self.closed_reason = message.get("reason")
            log(self.id, f"the server closes this connection: {self.closed_reason}: {message.get('message')}")

        @sio.on("task:assign", namespace=NAMESPACE)
        def on_assign(message):
            # python-socketio runs each event handler in its own thread: a long task blocks nothing.
            self._run(message["task"])

        @sio.on("task:cancel", namespace=NAMESPACE)
        def on_cancel(message):
            with self.lock:
                stop = self.running.pop(message["taskId"], None)
                self.unsent.pop(message["taskId"], None)
            if stop:
                stop.set()

    def _on_registered(self, answer):
        if answer.get("ok"):
            self.session_key = answer["data"].get("sessionKey")
            log(self.id, f"registered as {answer['data']['agentId']}")
            self.registered.set()
            self.backoff = 1.0
            self._settle_named(set(answer["data"].get("resumed") or []))
            return
        error = answer.get("error", {})
        code = error.get("code")
        log(self.id, f"registration refused: {code}: {error.get('message')}")
        if code in ("conflict", "unavailable"):
            # The id is held by another live connection (or the server is stopping): it frees, so try again later.
            log(self.id, f"agent id {self.id} is not available now: trying again with backoff")
        else:
            self.exit_code = 2
            self.stopping.set()
        self.sio.start_background_task(self.sio.disconnect)

    def _settle_named(self, resumed):
        """The named tasks the server gave back go on (their kept ends are sent); the others stop, unreported."""
        with self.lock:
            named, self.named = self.named, []
            ends = [self.unsent.pop(task_id) for task_id in named if task_id in resumed and task_id in self.unsent]
            for task_id in named:
                if task_id in resumed:
                    continue
                self.unsent.pop(task_id, None)
                stop = self.running.pop(task_id, None)
                if stop:
                    stop.set()
        for event, data in ends:
            self._emit(event, data)

    # ---- tasks -----------------------------------------------------------

    def _emit(self, event, data):
        if self.registered.is_set():
            try:
                self.sio.emit(event, data, namespace=NAMESPACE)
                return
            except socketio.exceptions.SocketIOError:
                pass
        # No connection: a task's end waits for the next registration, which names the task.
        if event in ("task:complete", "task:fail"):
            with self.lock:
                self.unsent[data["taskId"]] = (event, data)

    def _run(self, task):
        task_id = task["id"]
        stop = threading.Event()
        with self.lock:
            self.running[task_id] = stop
        self._emit("task:progress", {"taskId": task_id, "progress": 0})
        try:
            if task["kind"] == "hash":
                result = self._hash(task, stop)
            elif task["kind"] == "sleep":
                result = self._sleep(task, stop)
            else:
                raise ValueError(f"this agent runs hash and sleep tasks, not {task['kind']}")
        except Exception as error:  # any failure of the work is the task's failure, never the agent's
            if self._finish(task_id, stop):
                self._emit("task:fail", {"taskId": task_id, "error": str(error) or type(error).__name__})
            return
        if result is not None and self._finish(task_id, stop):
            self._emit("task:complete", {"taskId": task_id, "result": result})

    def _finish(self, task_id, stop):
        """True when the result still counts: not cancelled, connection not lost."""
        with self.lock:
            current = self.running.get(task_id) is stop and not stop.is_set()
            self.running.pop(task_id, None)
        return current

    def _hash(self, task, stop):
        payload = task.get("payload") or {}
        text, algorithm = payload.get("text"), payload.get("algorithm", "sha256")
        if not isinstance(text, str):
            raise ValueError("payload.text must be a string")
        if algorithm not in hashlib.algorithms_available:
            raise ValueError(f"unknown algorithm {algorithm}")
        self._emit("log", {"taskId": task["id"], "level": "info", "message": f"hashing {len(text)} characters with {algorithm}"})
        digest = hashlib.new(algorithm, text.encode("utf-8")).hexdigest()
        self._emit("task:progress", {"taskId": task["id"], "progress": 1, "message": "hashed"})
        return {"algorithm": algorithm, "digest": digest}

    def _sleep(self, task, stop):
        ms = (task.get("payload") or {}).get("ms")
        if not isinstance(ms, (int, float)) or ms < 0 or ms > 3_600_000:
            raise ValueError("payload.ms must be 0...3600000")
        for step in range(1, 11):
            if stop.wait(ms / 10 / 1000):
                return None  # cancelled or connection lost: report nothing
            self._emit("task:progress", {"taskId": task["id"], "progress": step / 10})
        return {"sleptMs": ms}

    # ---- liveness and lifecycle ------------------------------------------

    def _heartbeat(self):
        while not self.stopping.is_set():
            if self.registered.is_set():
                self._emit("agent:heartbeat", {})
                self._emit("agent:metrics", self.resources.sample())
            self.stopping.wait(HEARTBEAT_S)

    def leave(self):
        """Disconnects cleanly: the server then reports a stop (info), not a dropped connection (warning).

        python-socketio 5's disconnect() queues the namespace's DISCONNECT packet and closes the socket at
        once, so that packet is often never sent and the server sees only the socket closing. Here it is
        sent first, and given up to a second to leave (the engine.io client's write loop marks each packet
        it sent as done in its queue).
        """
        try:
            if self.sio.connected:
                goodbye = socketio.packet.Packet(socketio.packet.DISCONNECT, namespace=NAMESPACE)
                self.sio.eio.send(goodbye.encode())
                deadline = time.monotonic() + 1.0
                while self.sio.eio.queue.unfinished_tasks and time.monotonic() < deadline:
                    time.sleep(0.01)
        except (socketio.exceptions.SocketIOError, AttributeError, ValueError):
            pass  # gone already, or another python-socketio: disconnect() below is all there is
        self.sio.disconnect()

    def stop(self, signum=None, _frame=None):
        if signum is not None:
            log(self.id, f"{signal.Signals(signum).name}: disconnecting")
        self.stopping.set()
        # Not from the signal handler itself: disconnect() joins the socket's threads.
        threading.Thread(target=self.leave, daemon=True).start()

    def run(self):
        threading.Thread(target=self._heartbeat, daemon=True).start()
        self.backoff = 1.0
        while not self.stopping.is_set():
            self.closed_reason = None
            try:
                self.sio.connect(
                    self.args.url,
                    auth={"token": self.args.token},
                    namespaces=[NAMESPACE],
                    transports=["websocket"],
                    wait_timeout=10,
                )
                log(self.id, f"connected to {self.args.url}")
                self.sio.wait()
            except socketio.exceptions.ConnectionError as error:
                if self.stopping.is_set():
                    break
                log(self.id, f"cannot connect: {error}")
            if self.stopping.is_set():
                break
            if self.closed_reason == "replaced":
                log(self.id, f"a newer connection took {self.id} over with this one's session key: stopping")
                return 1
            # 1, 2, 4 ... 30 s, each spread by +-50 % so agents cut off together do not return together.
            delay = min(MAX_BACKOFF_S, self.backoff * random.uniform(0.5, 1.5))
            self.backoff = min(MAX_BACKOFF_S, self.backoff * 2)
            log(self.id, f"reconnecting in {delay:.1f} s")
            self.stopping.wait(delay)
        if self.sio.connected:
            self.leave()
        log(self.id, "stopped")
        return self.exit_code


def main():
    parser = argparse.ArgumentParser(description="Swarm Monitor example agent (Python).")
    parser.add_argument("--url", default=os.environ.get("SWARM_MONITOR_URL", "http://127.0.0.1:7420"))
    parser.add_argument(
        "--token",
        help="the agent token; prefer SWARM_MONITOR_AGENT_TOKEN (a command line is visible to other users in ps)",
    )
    parser.add_argument("--id", default=f"python-{socket.gethostname()}")
    parser.add_argument("--name")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    if args.token is not None:
        print(
            "warning: --token puts the agent token on the command line, where every user of this machine can read it"
            " (ps, /proc/PID/cmdline); set SWARM_MONITOR_AGENT_TOKEN instead",
            file=sys.stderr,
            flush=True,
        )
    else:
        args.token = os.environ.get("SWARM_MONITOR_AGENT_TOKEN")
    if not args.token:
        parser.error("the agent token is required: set SWARM_MONITOR_AGENT_TOKEN")
    agent = Agent(args)
    signal.signal(signal.SIGTERM, agent.stop)
    signal.signal(signal.SIGINT, agent.stop)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
