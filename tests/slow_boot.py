"""Imported by a worker as it boots (a preload), this takes two seconds: a slow machine's start."""

import time

time.sleep(2.0)  # the boot itself, which a job's time limit must not count
