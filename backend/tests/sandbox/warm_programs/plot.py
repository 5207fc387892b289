import matplotlib.pyplot as plt

plt.plot([1, 2, 3], [4, 1, 9])
plt.title("parity")
plt.show()
plt.bar(["a", "b"], [3, 5])
plt.show()
print("plotted")
