import os
import sys
import time

# A child forked without exec ends the way the program does (atexit
# handlers, the flush): it must not be taken for the run's end.
pid = os.fork()
if pid == 0:
    print("child leaving", flush=True)
    sys.exit(5)
_, status = os.waitpid(pid, 0)
time.sleep(0.3)  # the time a wrongly reported end would take to kill this run
print("parent after its child", os.waitstatus_to_exitcode(status))
