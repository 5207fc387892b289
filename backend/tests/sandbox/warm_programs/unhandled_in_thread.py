import threading


def fail():
    raise RuntimeError("in a thread")


t = threading.Thread(target=fail)
t.start()
t.join()
print("after")
