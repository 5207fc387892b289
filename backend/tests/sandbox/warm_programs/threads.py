import threading
import time


def late():
    time.sleep(0.3)
    print("thread done")


threading.Thread(target=late).start()
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
print("main done")
