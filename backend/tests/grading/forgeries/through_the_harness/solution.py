"""A determined forgery, from inside the test process: use the harness's own channel.

It reads the harness (it is readable, at /run/sandpit-grader/harness), finds
the plugin module with the run's nonce and the tests' sources in memory,
sends the records an honest run would send, all passed, and ends the process
before the real tests run. It scores: what runs in the process can do what
the harness does. What the reviewer sees is pytest's missing summary (a
note) and the raw output.
"""

import ast
import os
import sys

grader = sys.modules["sandpit_grader"]
ROOT = "/run/sandpit-grader/tests/"
nodes = []
for path, source in grader._sources.items():
    name = path.removeprefix(ROOT)
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            nodes.append(f"{name}::{node.name}")
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            nodes += [
                f"{name}::{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            ]
grader.send({"kind": "collected", "nodeids": nodes})
for node in nodes:
    grader.send({"kind": "test", "nodeid": node, "outcome": "passed", "output": ""})
os._exit(0)
