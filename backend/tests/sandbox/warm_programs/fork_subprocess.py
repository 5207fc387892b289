import os
import subprocess
import sys

pid = os.fork()
if pid == 0:
    print("child", flush=True)
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status))
done = subprocess.run([sys.executable, "-c", "import sys; print(sys.argv)"], capture_output=True)
print(done.returncode, done.stdout)
