"""`python -m tests.crash_worker EPOCH MODULE ARGS...`: run `MODULE.main(ARGS)`, and exit the
process hard (as a killed machine would) right after it has saved its resume state for EPOCH.

The cluster tests use it to lose a worker at a known point instead of racing a timer.
"""

import importlib
import os
import sys

from shared import callbacks

CRASH_STATUS = 9


def main() -> None:
    epoch, module, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    save_state = callbacks.save_state

    def save_then_crash(state_dir, history, *rest, **kwargs):
        save_state(state_dir, history, *rest, **kwargs)
        if len(history) >= epoch:
            print(f"crash_worker: exiting after saving epoch {len(history)}", flush=True)
            os._exit(CRASH_STATUS)

    callbacks.save_state = save_then_crash
    sys.exit(importlib.import_module(module).main(args))


if __name__ == "__main__":
    main()
