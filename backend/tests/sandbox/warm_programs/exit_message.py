import sys

sys.exit("bye with a message")
