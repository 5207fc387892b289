import atexit
import sys


class Noisy:
    def __del__(self):
        print("collected")


keep = Noisy()
atexit.register(print, "from atexit")
sys.stdout.write("no newline at the end")
