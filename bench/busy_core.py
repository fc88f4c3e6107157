#!/usr/bin/env python3
"""Takes part of one core, as a neighbour on a shared machine does: busy BUSY_MS in every
BUSY_MS + IDLE_MS on core CORE, at real-time priority (so the scheduler cannot move it away
from what runs there). Run as root beside bench/interleave.sh; stop it with Ctrl-C or kill.

Usage: bench/busy_core.py [BUSY_MS 3] [IDLE_MS 7] [CORE 1]
"""
import os
import sys
import time

busy, idle, core = (float(a) for a in (sys.argv[1:] + ["3", "7", "1"][len(sys.argv) - 1:]))
os.sched_setaffinity(0, {int(core)})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
while True:
    until = time.perf_counter() + busy / 1000
    while time.perf_counter() < until:
        pass
    time.sleep(idle / 1000)
