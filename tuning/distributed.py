"""Guards for Keras Tuner's distributed mode (one chief oracle, workers over gRPC).

keras-tuner 1.4.8 workers call the chief with `wait_for_ready=True` and a 60-minute timeout:
a worker whose chief has exited (or never started) sits silent for an hour. `watch_chief`
ends such a worker after `grace` seconds without the chief's port, with a message.
"""

import os
import socket
import sys
import threading
import time
import types

POLL_SECONDS = 2.0


def role() -> str:
    """`chief`, `worker` (KERASTUNER_TUNER_ID set to anything else) or `single`."""
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "")
    if not tuner_id:
        return "single"
    return "chief" if tuner_id == "chief" else "worker"


def chief_address() -> tuple[str, int]:
    try:
        return os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"])
    except (KeyError, ValueError):
        raise SystemExit(
            "error: distributed tuning needs KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT "
            "(an integer) besides KERASTUNER_TUNER_ID"
        ) from None


def reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=POLL_SECONDS):
            return True
    except OSError:
        return False


def watch_chief(grace: float) -> threading.Thread:
    """A daemon thread that ends this worker process once the chief's port has been
    unreachable for `grace` seconds (the chief finished, crashed or never came up)."""
    address = chief_address()

    def watch():
        since = time.monotonic()
        while True:
            if reachable(address):
                since = time.monotonic()
            elif time.monotonic() - since > grace:
                print(
                    f"error: the tuning chief at {address[0]}:{address[1]} has not answered "
                    f"for {grace:.0f} s; this worker stops (start the chief first, or it has "
                    "finished)",
                    file=sys.stderr,
                    flush=True,
                )
                os._exit(3)
            time.sleep(POLL_SECONDS)

    thread = threading.Thread(target=watch, name="chief-watchdog", daemon=True)
    thread.start()
    return thread


def prompt_chief_exit() -> None:
    """Let the chief notice within a second that the last worker is done.

    keras-tuner 1.4.8's chief (`oracle_chief.start_server`) checks every 20 s whether trials
    are still running once the search has ended, so a finished search kept its chief alive
    for up to 20 s more. Its `time.sleep` there is shortened to at most 1 s.
    """
    from keras_tuner.src.distribute import oracle_chief

    oracle_chief.time = types.SimpleNamespace(sleep=lambda seconds: time.sleep(min(seconds, 1.0)))
