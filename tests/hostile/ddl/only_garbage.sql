this is not sql at all; nor is this
