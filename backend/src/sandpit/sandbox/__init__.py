"""Sandboxes: where user code runs. One interface, interchangeable backends."""
