import sys

print(__name__, sys.argv, __file__, __spec__, type(__loader__).__name__)
print(sorted(globals()))
print(sys.path[:3], sys.path[-1])
print(sys.orig_argv)
print([m for m in ("mainrun", "warm", "warm_keeper", "run_code") if m in sys.modules])
print(sys.modules["__main__"].__dict__ is globals())
