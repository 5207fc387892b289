"""Forgery: end the whole sandbox from inside (SIGINT to its PID 1, the agent), hoping a
check whose sandbox vanished is retried, or counted as the platform's failure."""

import os
import signal
import time

os.kill(1, signal.SIGINT)
time.sleep(30)


def mean(values):
    return 0


def median(values):
    return 0
