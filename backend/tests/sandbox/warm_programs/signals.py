import signal

for name in ("SIGINT", "SIGPIPE", "SIGXFSZ", "SIGTERM", "SIGHUP", "SIGCHLD", "SIGUSR1", "SIGALRM"):
    print(name, signal.getsignal(getattr(signal, name)))
print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
signal.signal(signal.SIGALRM, lambda *_: print("alarm"))
signal.alarm(1)
signal.pause()
