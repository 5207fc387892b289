import sys

for stream in (sys.stdin, sys.stdout, sys.stderr):
    print(
        stream.name,
        stream.encoding,
        stream.errors,
        stream.line_buffering,
        stream.write_through,
        type(stream.buffer).__name__,
        stream.isatty(),
        stream.mode,
    )
print("to stderr", file=sys.stderr)
print(sys.stdin.read())
