import sys

line = "x" * 1023 + "\n"
for _ in range(256):
    sys.stdout.write(line)
