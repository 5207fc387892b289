import random

import numpy as np

np.random.seed(0)
print(np.random.rand(3))
random.seed(1)
print(random.random())
print(np.random.default_rng(5).integers(0, 100, 4))
