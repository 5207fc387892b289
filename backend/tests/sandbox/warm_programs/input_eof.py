name = input("name? ")
print("hello", name)
again = input("again? ")
