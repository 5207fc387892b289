def inner(value):
    return 10 / value


def outer():
    try:
        inner(0)
    except ZeroDivisionError as exc:
        raise ValueError("no zero") from exc


outer()
