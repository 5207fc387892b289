def mean(values):
    return 0


def median(values):
    return 0
